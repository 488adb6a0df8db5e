"""What members could work out from results, and the policy results follow (issue 21, items 9
and 10)."""

from __future__ import annotations

from bot.emulator import Emulator
from tests.poll_helpers import (
    closed_result,
    coalition,
    compose,
    last_poll,
    poll_message,
    traced,
    voted,
)


async def test_results_hide_groups_under_three_and_follow_the_chat_policy(emu: Emulator,
                                                                 make_bot) -> None:
    """Item 9: 'Allies: …' showed the one ally's vote right above a split that hid the same
    group as 'under 3'. Members now see no line of fewer than 3 organisations."""
    c = await coalition(emu, make_bot, coord_lang="en")
    await compose(emu, c.coord, "What first?", ["Law", "Taxes"])
    poll = await last_poll(c.bot)
    await traced(c.bot, poll.id)
    g, p = c.groups, c.people
    emu.vote(p["ana"], poll_message(emu, g["g1"]), [0])
    emu.vote(p["dani"], poll_message(emu, g["g3"]), [1])
    emu.vote(p["lola"], poll_message(emu, g["g4"]), [0])
    emu.vote(p["nico"], poll_message(emu, emu.private_chat(p["nico"])), [0])
    emu.vote(p["ali"], poll_message(emu, emu.private_chat(p["ali"])), [1])  # the one ally
    await voted(c.bot, 5)
    emu.clock.advance(2 * 86400 + 60)
    await closed_result(c.bot, poll.id)
    shown = await emu.wait_for(lambda: next((m.text for m in emu.bot_messages(g["g1"])
                                             if "Resultados de la encuesta" in (m.text or "")),
                                            None), what="the results in a member group")
    assert "Miembros plenos: Law 3, Taxes 1" in shown
    assert "Aliadas: menos de 3 organizaciones votaron; no se muestra" in shown
    assert "Taxes 1" not in shown.split("Aliadas:")[1].split("\n")[0]
    # Item 10: the results and their chart follow the low-profile group's policy (protected)
    chart = await emu.wait_for(lambda: next((m for m in emu.bot_messages(g["g4"])
                                             if m.photo is not None), None),
                               what="the chart in the low-profile group")
    assert chart.protect_content is True
    results = next(m for m in emu.bot_messages(g["g4"])
                   if "Resultados de la encuesta" in (m.text or ""))
    assert results.protect_content is True
    in_g1 = await emu.wait_for(lambda: next((m for m in emu.bot_messages(g["g1"])
                                             if m.photo is not None), None), what="g1's chart")
    assert in_g1.protect_content is False


async def test_a_deletion_missed_while_the_bot_was_down_is_told_to_the_contacts(
        emu: Emulator, make_bot) -> None:
    """Item 11: a low-profile deletion that fell due while the bot was down, past Telegram's 48
    hours, was silently never done. The contacts are now told, in private, what to delete."""
    from sqlalchemy import select, update

    from bot.db.models import Organisation, OutboxRow
    from bot.delivery import outbox
    from tests.alert_helpers import add_org
    from tests.delivery_helpers import finished

    bot = await make_bot()
    low = await add_org(emu, bot, "Lambda Secreta", low_profile=True)
    async with bot.db.transaction() as session:
        await session.execute(update(Organisation).where(Organisation.id == low.id)
                              .values(delete_after_hours=6))
        fanout = await outbox.enqueue(session, "note", "test", [outbox.Outgoing(
            chat_id=low.groups[0].id, text="Nota para el grupo")], bot.clock.now())
    bot.sender.wake()
    await finished(bot, fanout)
    [copy] = [m for m in emu.bot_messages(low.groups[0]) if m.text == "Nota para el grupo"]
    await bot.stop()
    emu.clock.advance(50 * 3600)  # the bot was down past the deletion and Telegram's window
    bot = await make_bot()
    chat = emu.private_chat(low.contact)
    told = await emu.wait_for(lambda: next((m for m in emu.bot_messages(chat)
                                            if "No pude borrar" in (m.text or "")), None),
                              timeout=20, what="the contact told")
    assert "1 de mis mensajes" in told.text and "en un grupo miembro" in told.text
    assert told.protect_content is True
    assert not emu.message(copy).deleted  # Telegram would refuse; the bot did not pretend
    async with bot.db.sessions() as session:
        marked = (await session.execute(select(OutboxRow.deleted_at).where(
            OutboxRow.fanout_id == fanout))).scalar_one()
    assert marked is not None  # told once, not at every sweep

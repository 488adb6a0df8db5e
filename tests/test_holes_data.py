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


async def test_exit_leaves_no_name_and_tells_the_person_what_was_done(emu: Emulator,
                                                                     make_bot) -> None:
    """Item 8: after `/exit` the organisation's name stayed in the coordinator's named invitation,
    in a draft alert made from its report, and in a saved update; `/exit` deleted its own
    confirmation (the person saw nothing) and raced the clean-up with an edit (an ERROR)."""
    from sqlalchemy import select, update

    from bot.db.models import Alert, Organisation
    from tests.helpers import eventually, updates_handled
    from tests.registration_helpers import ask, fill, press
    from tests.safety_helpers import exit_cleanup_done, leftovers
    from tests.test_invitations import payload_of

    emu.clock.scale = 3.0  # callback queries live 15 emulated s: 5 wall s
    coco = emu.add_user("Coco", language_code="en", user_id=2**33 + 5)
    bot = await make_bot(coordinator_ids=(coco.id,))
    await ask(emu, coco, "/start")
    name = "Colectivo <Zafiro> & Norte"
    payload = payload_of(await ask(emu, coco, f"/invite member {name}"))
    ana = emu.add_user("Anastasia Zafiro", language_code="es", user_id=2**33 + 6,
                       username="ana_zafiro_x")
    first = await ask(emu, ana, f"/start {payload}")
    summary = await fill(emu, ana, first, [
        ("press", "Colectivo activista"), ("press", "Nacional"), ("press", "Guatemala"),
        ("toggle", ([], "Listo")), ("toggle", ([], "Listo")),
        ("press", "Español"), ("press", "Solo nuestros contactos")])
    await press(emu, ana, summary, "Enviar")
    # A report naming the organisation, turned into a draft by the coordinator.
    await ask(emu, ana, "/report")
    await ask(emu, ana, f"{name} fue citado por la fiscalía de Jalisco")
    state = await ask(emu, ana, "https://example.org/nota")
    await press(emu, ana, state, "Jalisco")
    copy = await emu.wait_for(lambda: next((m for m in emu.bot_messages(emu.private_chat(coco))
                                            if "Report from a member" in (m.text or "")), None),
                              what="the report reaches the coordinator")
    severity = await press(emu, coco, copy, "Draft an alert from this")
    assert severity.text == "How serious is it?"

    async with bot.db.transaction() as session:  # low profile: its chats are protected
        await session.execute(update(Organisation).values(low_profile=True))
    question = await ask(emu, ana, "/exit")
    assert question.protect_content is True
    emu.press(ana, question, label="Borrar todo y salir")
    chat = emu.private_chat(ana)
    last = await emu.wait_for(lambda: next((m for m in emu.bot_messages(chat)
                                            if "Salida de emergencia hecha" in (m.text or "")),
                                           None), what="the last message")
    assert emu.message(question).deleted  # the confirmation went with the rest
    assert "Zafiro" not in last.text
    assert "48 horas" in last.text and "Borrar chat" in last.text
    assert "borré" in last.text.lower()
    assert last.protect_content is True
    await eventually(lambda: updates_handled(bot), timeout=10)
    await eventually(lambda: exit_cleanup_done(bot), timeout=10, what="the exit's list forgotten")
    async with bot.db.sessions() as session:
        drafts = (await session.execute(select(Alert))).scalars().all()
    assert drafts == []
    found = await leftovers(bot, [name, "Anastasia Zafiro", "ana_zafiro_x",
                                  "fue citado por la fiscalía"], [ana.id], checkpoint=False)
    assert found == [], found
    # The coordinator going on with the draft is told it is gone, nothing else happens.
    pressed = emu.press(coco, severity, label="Urgent")
    await emu.wait_for(lambda: any(a[0] == pressed.id for a in emu.callback_answers),
                       what="the press answered")
    assert [a[1] for a in emu.callback_answers if a[0] == pressed.id] == [
        "This button is no longer valid."]
    assert not (await leftovers(bot, [name], [], checkpoint=False))

"""Rule Q for solidarity: /forget ends a person's relays and removes their bookkeeping (their
organisation's offer stays, without them); /exit leaves no request or offer of the organisation;
the retention purge drops old relay bookkeeping, attributions and closed requests' texts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db.models import HelpOffer, HelpRelay, HelpRequest, HelpTarget
from bot.emulator import Emulator
from bot.services.safety import erasure
from bot.services.solidarity import solidarity
from tests.alert_helpers import ask
from tests.helpers import eventually
from tests.safety_helpers import leftovers
from tests.solidarity_helpers import (
    EN,
    answered,
    ask_for_help,
    bot_text,
    capable_org,
    copy_in,
    last_request,
    sent_to,
    texts,
)


async def test_forget_exit_and_retention(emu: Emulator, make_bot) -> None:
    bot = await make_bot()
    ds = ("digital-security",)
    asker = await capable_org(emu, bot, "Semilla", ds, contact_language="en")
    helper = await capable_org(emu, bot, "Cerca", ds, groups=0, contact_language="en")
    helper.contact.username = "cerca_carla"  # kept with an offer that asks for an introduction
    await ask_for_help(emu, asker.contact, capacity="digital-security", urgency="routine",
                       text="Help us with backups.", visibility="named")
    request = await last_request(bot)
    await sent_to(bot, request)
    asker_chat, helper_chat = emu.private_chat(asker.contact), emu.private_chat(helper.contact)
    await answered(emu, emu.press(helper.contact, copy_in(emu, helper_chat, f"#{request.id}"),
                                  label=EN["intro"]))
    notice = await bot_text(emu, asker_chat, "Cerca can help")
    emu.press(asker.contact, notice, label=EN["accept"])
    await bot_text(emu, helper_chat, "accepted your offer")
    await bot_text(emu, asker_chat, "You accepted the offer")
    first = emu.send(asker.contact, "First message.")
    await bot_text(emu, helper_chat, "First message.")
    # the same update handled again (rule U) is not copied twice; one whose copy never got an
    # answer (a crash in between) is copied again
    async def copied() -> bool:
        async with bot.db.sessions() as session:
            return (await session.execute(select(HelpRelay.to_message_id).where(
                HelpRelay.from_message_id == first.message_id))).scalar() is not None

    await eventually(copied, what="the copy's message id noted")
    async with bot.db.transaction() as session:
        [thread] = await solidarity.threads_of(session, asker_chat.id)
        assert not await solidarity.record_relay(session, thread, asker_chat.id,
                                                 first.message_id, bot.clock.now())
        assert await solidarity.record_relay(session, thread, asker_chat.id, 999_999,
                                             bot.clock.now())
    # a document goes across too (copied, after a header)
    emu.send_document(asker.contact, "plan.pdf", b"%PDF-1.4 plan")
    await emu.wait_for(lambda: any(m.document is not None for m in emu.bot_messages(helper_chat)),
                       what="the copied document")
    emu.send(helper.contact, "Reply from Cerca.")
    await bot_text(emu, asker_chat, "Reply from Cerca.")

    async def rows(model):
        async with bot.db.sessions() as session:
            return list((await session.execute(select(model))).scalars())

    assert len(await rows(HelpRelay)) == 4  # three copied, one noted and never answered
    # the helper forgets themself: the offer stays their organisation's, the relay ends
    async with bot.db.transaction() as session:
        await erasure.forget_person(session, helper.contact.id, bot.clock.now())
    [offer] = await rows(HelpOffer)
    assert (offer.org_id, offer.answer, offer.status) == (helper.id, "can_help", "ended")
    assert offer.answered_by is None and offer.helper_chat_id is None
    assert await rows(HelpRelay) == []
    assert all(t.chat_id != helper.contact.id for t in await rows(HelpTarget))
    # no byte of the SQLite file or its WAL (or no PostgreSQL row) names them any more
    assert await leftovers(bot, ["cerca_carla", helper.contact.first_name],
                           [helper.contact.id]) == []
    await ask(emu, asker.contact, "Still there after forget?")
    assert not any("after forget" in t for t in texts(emu, helper_chat))

    # retention: relays, attributions and closed requests' texts older than the cutoff go
    later = bot.clock.now() + timedelta(days=200)
    async with bot.db.transaction() as session:
        await solidarity.close(session, request.id, asker.contact.id, "helped", bot.clock.now())
        purged = await solidarity.purge_old(session, later - timedelta(days=180) +
                                            timedelta(days=30))
    assert purged >= 2
    [kept] = await rows(HelpRequest)
    assert kept.text == "" and kept.asked_by is None and kept.outcome == "helped"

    # the asking organisation exits: none of its requests or their offers remain
    async with bot.db.transaction() as session:
        await erasure.exit_org(session, asker.id, bot.clock.now())
    assert await rows(HelpRequest) == [] and await rows(HelpOffer) == []
    assert await rows(HelpTarget) == []

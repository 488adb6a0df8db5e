"""Calendar files and erasure: the `.ics` the bot sends is parsed back by the calendar library
with the right UTC time (both languages; a cancelled action's file says so); someone the action
was not sent to gets none. /forget, /exit and the retention purge reach the RSVPs (rule Q)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select

from bot.db.models import Action, ActionRsvp, ActionStranger
from bot.emulator import Emulator
from bot.services.actions import actions
from bot.services.safety.erasure_hooks import ORG_HOOKS, PERSON_HOOKS, RETENTION_HOOKS
from handlers.actions.copies import cancelled_copy
from handlers.actions.render import calendar_file
from tests.action_helpers import CLOCK_START, add_org, coordinator, local, make_action, set_zone
from tests.delivery_helpers import finished


@pytest.fixture
def clock_start() -> datetime:
    """The dates below are fixed: the emulator's clock starts before them, whatever today is."""
    return CLOCK_START


def ics_of(emu: Emulator, chat: object) -> tuple[icalendar.Event, str]:
    docs = [m for m in emu.bot_messages(chat) if m.document is not None]
    assert len(docs) == 1
    assert docs[0].document.filename.endswith(".ics")
    calendar = icalendar.Calendar.from_ical(docs[0].document.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return events[0], docs[0].caption or ""


async def fanout_done(bot, action_id: int) -> None:
    async with bot.db.sessions() as session:
        item = await actions.get(session, action_id)
        assert item is not None and item.fanout_id is not None
    await finished(bot, item.fanout_id)


async def test_the_ics_parses_back_with_the_right_utc_time(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    es_org = await add_org(emu, bot, "Red Jalisco")
    en_org = await add_org(emu, bot, "Voces del Norte", group_language="en")
    await set_zone(bot, en_org.groups[0].id, "Europe/Madrid")
    starts = local("2027-03-14 03:30", "America/New_York")  # just after the spring gap
    action_id = await make_action(bot, "Audiencia pública", starts, timezone="America/New_York",
                                  place="Senado, CDMX", description="Comparecencia.")
    await fanout_done(bot, action_id)

    for org, label, caption in ((es_org, "📅 Añadir al calendario", "para su calendario"),
                                (en_org, "📅 Add to calendar", "for your calendar")):
        copy = next(m for m in emu.bot_messages(org.groups[0]) if "Audiencia" in m.text)
        emu.press(org.member, copy, label=label)
        await emu.wait_for(lambda org=org: any(m.document for m in emu.bot_messages(
            org.groups[0])), what="the calendar file")
        event, text = ics_of(emu, org.groups[0])
        assert caption in text
        assert event.decoded("dtstart") == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
        assert event.decoded("dtstart") == starts
        assert str(event.get("summary")) == "Audiencia pública"
        assert str(event.get("location")) == "Senado, CDMX"
        assert str(event.get("status")) == "CONFIRMED"

    # someone the action was not sent to gets no file
    sam = emu.add_user("Sam", language_code="en")
    emu.private_chat(sam).started = True
    emu.send(sam, "/start")
    await emu.wait_for(lambda: emu.bot_messages(emu.private_chat(sam)))
    q = emu.forge_callback(sam, emu.private_chat(sam), 1, f"v1:aci:{action_id}")
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == "This action was not sent to your organisation."
    assert not any(m.document for m in emu.bot_messages(emu.private_chat(sam)))

    # cancelled: the coordinator's file says so
    async with bot.db.transaction() as session:
        assert await actions.cancel(session, action_id, bot.clock.now(),
                                    cancelled_copy("UTC")) is not None
    async with bot.db.sessions() as session:
        item = await session.get(Action, action_id)
        assert item is not None
        event = icalendar.Calendar.from_ical(calendar_file(item)).walk("VEVENT")[0]
    assert str(event.get("status")) == "CANCELLED" and int(event.get("sequence")) == 1


async def test_erasure_hooks_reach_the_rsvps(emu: Emulator, make_bot) -> None:
    bot = await make_bot()
    org = await add_org(emu, bot, "Red Jalisco")
    other = await add_org(emu, bot, "Voces del Norte")
    action_id = await make_action(bot, "Reunión", local("2027-01-20 18:00", "UTC"))
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        assert (await actions.answer(session, action_id, org.groups[0].id, False,
                                     org.member.id, "going", now)).org_id == org.id
        assert (await actions.answer(session, action_id, 0, True, other.contact.id, "maybe",
                                     now)).org_id == other.id
        stranger = await actions.answer(session, action_id, 0, True, 999, "going", now)
        assert stranger.outcome is actions.Outcome.STRANGER
    assert actions.forget_person in PERSON_HOOKS and actions.erase_org in ORG_HOOKS
    assert actions.purge_old in RETENTION_HOOKS
    async with bot.db.transaction() as session:
        await actions.forget_person(session, org.member.id, now)
        await actions.forget_person(session, 999, now)
        await actions.erase_org(session, other.id, now)
    async with bot.db.sessions() as session:
        rows = (await session.execute(select(ActionRsvp))).scalars().all()
        assert [(r.org_id, r.answer, r.answered_by) for r in rows] == [(org.id, "going", None)]
        assert (await session.execute(select(ActionStranger))).scalars().all() == []
        assert (await actions.counts(session, action_id))[1] == 1  # still counted apart
    async with bot.db.transaction() as session:
        await actions.answer(session, action_id, 0, True, org.contact.id, "maybe", now)
    async with bot.db.transaction() as session:
        assert await actions.purge_old(session, now + timedelta(days=1)) >= 1
    async with bot.db.sessions() as session:
        row = await session.get(ActionRsvp, (action_id, org.id))
        assert row is not None and row.answer == "maybe" and row.answered_by is None

"""Local time for actions: a wall-clock time is read in the coordinator's zone and kept in UTC;
the hour skipped when clocks go forward is refused, the hour repeated when they go back is the
first; and the composer (a row, rule C) survives a restart in the middle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.emulator import Emulator
from bot.services.actions.actions import When, parse_local
from tests.action_helpers import (
    CLOCK_START,
    add_org,
    ask,
    compose,
    coordinator,
    last_action,
    local,
    press,
    text_after,
)

NOW = CLOCK_START  # the pure checks read their dates at the moment the clock starts


@pytest.fixture
def clock_start() -> datetime:
    """The dates below are fixed: the emulator's clock starts before them, whatever today is."""
    return CLOCK_START


def test_local_times_become_utc() -> None:
    assert parse_local("2027-01-20 18:00", "America/Mexico_City", NOW) == (
        When.OK, datetime(2027, 1, 21, 0, 0, tzinfo=UTC))
    assert parse_local("20/01/2027 18:00", "Europe/Madrid", NOW) == (
        When.OK, datetime(2027, 1, 20, 17, 0, tzinfo=UTC))
    assert parse_local(" 2027-07-01   09:00 ", "Europe/Madrid", NOW) == (
        When.OK, datetime(2027, 7, 1, 7, 0, tzinfo=UTC))  # summer time


def test_gaps_past_and_nonsense_are_refused() -> None:
    assert parse_local("2027-03-28 02:30", "Europe/Madrid", NOW) == (When.GAP, None)
    assert parse_local("2027-03-14 02:00", "America/New_York", NOW) == (When.GAP, None)
    assert parse_local("2027-03-14 03:00", "America/New_York", NOW)[0] is When.OK
    assert parse_local("2026-11-25 05:59", "America/Mexico_City", NOW) == (When.PAST, None)
    for text in ("mañana", "2027-02-30 10:00", "2027-01-20", "18:00", ""):
        assert parse_local(text, "UTC", NOW) == (When.UNREADABLE, None), text


def test_the_repeated_hour_is_the_first() -> None:
    # 2027-11-07 01:30 happens twice in New York: first in EDT (UTC-4), then in EST (UTC-5).
    assert parse_local("2027-11-07 01:30", "America/New_York", NOW) == (
        When.OK, datetime(2027, 11, 7, 5, 30, tzinfo=UTC))


async def test_the_composer_survives_a_restart(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "en")
    first = await make_bot(coordinator_ids=(coord.id,))
    await add_org(emu, first, "Red Jalisco")
    await ask(emu, coord, "/action")
    await ask(emu, coord, "Reunión de la coalición")
    await first.stop()
    second = await make_bot(coordinator_ids=(coord.id,))
    m = await ask(emu, coord, "Para acordar la agenda.")  # the description step, after a restart
    assert "What kind of action" in m.text
    m = await press(emu, coord, m, "Meeting")
    m = await ask(emu, coord, "2027-02-03 17:00")
    assert "Where?" in m.text
    draft = await last_action(second)
    assert draft is not None and draft.title == "Reunión de la coalición"
    assert draft.description == "Para acordar la agenda." and draft.kind == "meeting"
    assert draft.starts_at == local("2027-02-03 17:00", "America/Mexico_City")
    sent = emu.send(coord, "/cancel")
    await text_after(emu, emu.private_chat(coord), "Cancelled", sent.message_id)


async def test_announce_after_the_start_passed_is_refused(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await add_org(emu, bot, "Red Jalisco")
    zone = ZoneInfo("America/Mexico_City")
    soon = datetime.fromtimestamp(emu.clock.now(), zone) + timedelta(hours=2)
    _, summary = await compose(emu, coord, title="Pronto", when=f"{soon:%Y-%m-%d %H:%M}")
    emu.clock.advance(3 * 3600)  # the preview waited too long
    q = emu.press(coord, summary, label="Announce")
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == ("That moment has already passed. Please give a date and time in "
                             "the future.")
    draft = await last_action(bot)
    assert draft is not None and draft.status == "draft" and draft.fanout_id is None

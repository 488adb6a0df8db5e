"""The one date parser (bot/dates.py, issue 24), as a table: every form a coordinator types, in
both languages, read in the reader's zone on a Thursday, 3 December 2026 at 11:18 in Mexico City
(17:18 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.dates import Problem, parse

MX = "America/Mexico_City"
MADRID = "Europe/Madrid"
NOW = datetime(2026, 12, 3, 17, 18, tzinfo=UTC)  # Thursday 11:18 in Mexico City
END_OF_DAY = time(23, 59)


def local(zone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


FRIDAY_18 = local(MX, 2026, 12, 4, 18, 0)
SATURDAY_18 = local(MX, 2026, 12, 5, 18, 0)
# (typed, zone, the moment it names or the problem, options)
TABLE: list[tuple[str, str, datetime | Problem, dict[str, object]]] = [
    # numbers, day before month
    ("2026-12-05 18:00", MX, SATURDAY_18, {}),
    ("5/12/2026 18:00", MX, SATURDAY_18, {}),
    ("5/12 18:00", MX, SATURDAY_18, {}),  # no year: the next 5 December
    ("5/12/26 18:00", MX, SATURDAY_18, {}),
    ("3/12/26", MX, local(MX, 2026, 12, 3, 23, 59), {"default_time": END_OF_DAY}),  # our form
    ("1/3 9:30", MX, local(MX, 2027, 3, 1, 9, 30), {}),  # no year, already past: next year's
    # month names, both languages
    ("5 dic 18:00", MX, SATURDAY_18, {}),
    ("5 de diciembre a las 18:00", MX, SATURDAY_18, {}),
    ("5 Dec 6pm", MX, SATURDAY_18, {}),
    ("Dec 5 6 pm", MX, SATURDAY_18, {}),
    ("december 5, 2026 6:00 PM", MX, SATURDAY_18, {}),
    ("5 Dic 2026", MX, local(MX, 2026, 12, 5, 23, 59), {"default_time": END_OF_DAY}),
    # weekdays and days from today
    ("viernes 18:00", MX, FRIDAY_18, {}),
    ("el viernes a las 18:00", MX, FRIDAY_18, {}),
    ("Friday 6pm", MX, FRIDAY_18, {}),
    ("jueves 18:00", MX, local(MX, 2026, 12, 3, 18, 0), {}),  # typed on a Thursday: today
    ("jueves 10:00", MX, local(MX, 2026, 12, 10, 10, 0), {}),  # its hour passed: next week
    ("Thursday", MX, local(MX, 2026, 12, 3, 23, 59), {"default_time": END_OF_DAY}),
    ("mañana 10:00", MX, local(MX, 2026, 12, 4, 10, 0), {}),
    ("Mañana a las 10", MX, local(MX, 2026, 12, 4, 10, 0), {}),
    ("tomorrow at 10", MX, local(MX, 2026, 12, 4, 10, 0), {}),
    ("viernes 5", MX, Problem.UNREADABLE, {}),  # a bare number is not an hour
    ("tomorrow 10am", MX, local(MX, 2026, 12, 4, 10, 0), {}),
    ("pasado mañana 9:00", MX, local(MX, 2026, 12, 5, 9, 0), {}),
    ("hoy 20h", MX, local(MX, 2026, 12, 3, 20, 0), {}),
    ("18:00", MX, Problem.UNREADABLE, {}),  # a time alone names no day
    # durations
    ("3d", MX, NOW + timedelta(days=3), {}),
    ("3 días", MX, NOW + timedelta(days=3), {}),
    ("2h", MX, NOW + timedelta(hours=2), {}),
    ("2 horas", MX, NOW + timedelta(hours=2), {}),
    ("in 2 hours", MX, NOW + timedelta(hours=2), {}),
    ("en 90 minutos", MX, NOW + timedelta(minutes=90), {}),
    ("1d 6h", MX, NOW + timedelta(days=1, hours=6), {}),
    ("1 semana", MX, NOW + timedelta(weeks=1), {}),
    # what cannot be used
    ("30/2", MX, Problem.NO_SUCH_DAY, {}),
    ("31/4/2027 10:00", MX, Problem.NO_SUCH_DAY, {}),
    ("1/12/2026 10:00", MX, Problem.PAST, {}),
    ("2026-12-03 11:00", MX, Problem.PAST, {}),
    ("25:00", MX, Problem.UNREADABLE, {}),
    ("13pm", MX, Problem.UNREADABLE, {}),
    ("pronto", MX, Problem.UNREADABLE, {}),
    ("", MX, Problem.UNREADABLE, {}),
    ("5/12/2026", MX, Problem.NEEDS_TIME, {"needs_time": True}),
    ("viernes", MX, Problem.NEEDS_TIME, {"needs_time": True}),
    # clocks that move: the skipped hour refused, the repeated one its first occurrence
    ("28/3/2027 02:30", MADRID, Problem.GAP, {}),
    ("2027-03-28 03:30", MADRID, local(MADRID, 2027, 3, 28, 3, 30), {}),
    ("31/10/2027 02:30", MADRID, datetime(2027, 10, 31, 0, 30, tzinfo=UTC), {}),
]


@pytest.mark.parametrize("typed,zone,expected,options", TABLE,
                         ids=[f"{row[0] or 'empty'}@{row[1].split('/')[1]}" for row in TABLE])
def test_the_parser_reads_every_form(typed: str, zone: str, expected: datetime | Problem,
                                     options: dict[str, object]) -> None:
    reading = parse(typed, zone, NOW, **options)  # type: ignore[arg-type]
    if isinstance(expected, Problem):
        assert (reading.when, reading.problem) == (None, expected)
    else:
        assert (reading.when, reading.problem) == (expected, None)


def test_tomorrow_is_the_readers_tomorrow() -> None:
    """Typed at 23:59 in Mexico City (already the next day in UTC), "mañana" is the day after
    the reader's today, not after UTC's."""
    late = local(MX, 2026, 12, 3, 23, 59)
    assert late.date().day == 4  # UTC has moved on
    assert parse("mañana 10:00", MX, late).when == local(MX, 2026, 12, 4, 10, 0)
    assert parse("tomorrow 10am", MX, late).when == local(MX, 2026, 12, 4, 10, 0)
    # one minute later, in the reader's zone it is the 4th: tomorrow is the 5th
    assert parse("mañana 10:00", MX, late + timedelta(minutes=1)).when == \
        local(MX, 2026, 12, 5, 10, 0)


def test_a_duration_says_it_is_one() -> None:
    assert parse("3d", MX, NOW).relative
    assert not parse("viernes 18:00", MX, NOW).relative


def test_friday_typed_on_a_friday() -> None:
    """On Friday 4 December at 10:00 in Mexico City, "viernes 18:00" is today; "viernes 9:00",
    its hour gone, is next week's; "viernes" alone, as a deadline, the end of today."""
    friday = local(MX, 2026, 12, 4, 10, 0)
    assert parse("viernes 18:00", MX, friday).when == local(MX, 2026, 12, 4, 18, 0)
    assert parse("Friday 9am", MX, friday).when == local(MX, 2026, 12, 11, 9, 0)
    assert parse("viernes", MX, friday, default_time=END_OF_DAY).when == \
        local(MX, 2026, 12, 4, 23, 59)

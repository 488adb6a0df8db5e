"""The one way a person types a date, a time or a duration, in Spanish or English (issue 24).

Every flow that asks "when" reads the answer here, in the reader's time zone, so that what works
for a poll's closing works for an alert's deadline and an action's start:

    2026-12-05 18:00    5/12/2026 18:00    5/12 18:00    3/12/26 (the bot's own short form)
    5 dic 18:00         5 de diciembre a las 18:00        5 Dec 6pm      Dec 5 6:30 pm
    viernes 18:00       Friday 6pm         mañana 10:00   tomorrow 10am  hoy 20h   tonight
    3d   3 días   2h   2 horas   90 min   1 semana   in 2 hours   en 2 horas   1d 6h

Days come before months in both languages (the coalition writes 5/12 for the 5th of December).
A date without a year is the next such day; a weekday is the next one whose time is still ahead
(typed on a Friday morning, "viernes 18:00" is today); a time alone names no day and is not
read. A date without a time takes the caller's
`default_time` (an alert's deadline: the end of the day); a caller that needs a time says so.

Why a table of our own rather than `dateparser`: that library weighs several megabytes of
language data and reads "5/12" month-first unless told otherwise; the forms above are few, and
a table-driven test holds every one of them (tests/test_dates.py).

Times inside a daylight-saving gap do not exist and are refused, not guessed; a repeated hour
(clocks going back) is its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime, format_timedelta, get_timezone_location

from bot.words import plain


class Problem(StrEnum):
    UNREADABLE = "unreadable"
    NO_SUCH_DAY = "no_such_day"  # 30/2
    GAP = "gap"  # a time the clocks skip
    PAST = "past"
    NEEDS_TIME = "needs_time"  # a date alone where a time is needed


@dataclass(frozen=True)
class Reading:
    """What a person typed, as a moment (UTC), or why it cannot be used."""

    when: datetime | None
    problem: Problem | None = None
    relative: bool = False  # a duration ("3d", "in 2 hours"): no date was named


MONTHS = {
    "ene": 1, "enero": 1, "jan": 1, "january": 1,
    "feb": 2, "febrero": 2, "february": 2,
    "mar": 3, "marzo": 3, "march": 3,
    "abr": 4, "abril": 4, "apr": 4, "april": 4,
    "may": 5, "mayo": 5,
    "jun": 6, "junio": 6, "june": 6,
    "jul": 7, "julio": 7, "july": 7,
    "ago": 8, "agosto": 8, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "septiembre": 9, "setiembre": 9, "september": 9,
    "oct": 10, "octubre": 10, "october": 10,
    "nov": 11, "noviembre": 11, "november": 11,
    "dic": 12, "diciembre": 12, "dec": 12, "december": 12,
}
WEEKDAYS = {
    "lun": 0, "lunes": 0, "mon": 0, "monday": 0,
    "mar": 1, "martes": 1, "tue": 1, "tues": 1, "tuesday": 1,
    "mie": 2, "miercoles": 2, "wed": 2, "wednesday": 2,
    "jue": 3, "jueves": 3, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "vie": 4, "viernes": 4, "fri": 4, "friday": 4,
    "sab": 5, "sabado": 5, "sat": 5, "saturday": 5,
    "dom": 6, "domingo": 6, "sun": 6, "sunday": 6,
}
DAYS_FROM_TODAY = {"hoy": 0, "today": 0, "tonight": 0, "manana": 1, "tomorrow": 1,
                   "pasado manana": 2, "day after tomorrow": 2}
UNITS = {
    "m": "minutes", "min": "minutes", "mins": "minutes", "minuto": "minutes",
    "minutos": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hr": "hours", "hrs": "hours", "hora": "hours", "horas": "hours",
    "hour": "hours", "hours": "hours",
    "d": "days", "dia": "days", "dias": "days", "day": "days", "days": "days",
    "w": "weeks", "sem": "weeks", "semana": "weeks", "semanas": "weeks", "week": "weeks",
    "weeks": "weeks",
}
# Words that join the parts and say nothing of the date: "el viernes a las 18:00", "on Friday at".
FILLER = {"el", "la", "las", "a", "de", "del", "on", "at", "the", "of", "por", "this", "este",
          "esta", "next", "proximo", "proxima", "en", "in", "dentro"}

_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|h|hrs)?$")
_NUMERIC = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$|^(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?$")
_DURATION = re.compile(r"(\d+)\s*([a-z]+)")


def _plain(text: str) -> str:
    """Plain words, commas off and no trailing full stop ("Mañana, 10:00." -> "manana 10:00")."""
    return plain(text.replace(",", " ")).strip(" .")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _duration(words: str) -> timedelta | None:
    """ "3d", "3 días", "1d 6h", "in 2 hours", "en 90 minutos" -> a timedelta."""
    rest = words
    for lead in ("in ", "en ", "dentro de "):
        rest = rest.removeprefix(lead)
    parts = _DURATION.findall(rest)
    if not parts or _DURATION.sub("", rest).replace("y", "").replace("and", "").strip():
        return None
    total = timedelta()
    for amount, unit in parts:
        if unit not in UNITS:
            return None
        total += timedelta(**{UNITS[unit]: int(amount)})
    return total


def _time(tokens: list[str]) -> tuple[time | None, list[str], bool]:
    """The time of day at the end of the tokens ("18:00", "6pm", "6 pm", "10am"), the tokens
    left, and whether the tokens named a time that cannot be (25:00)."""
    if not tokens:
        return None, tokens, False
    for take in (2, 1):
        if len(tokens) < take:
            continue
        candidate = "".join(tokens[-take:]) if take == 2 else tokens[-1]
        if take == 2 and tokens[-1] not in ("am", "pm", "a.m.", "p.m.", "h", "hrs"):
            continue
        match = _TIME.match(candidate)
        if match is None:
            continue
        hour, minute, suffix = int(match[1]), int(match[2] or 0), match[3]
        if suffix is None and match[2] is None and not (
                take == 1 and len(tokens) >= 2 and tokens[-2] in ("las", "la", "at")):
            continue  # a bare number is a day, not an hour, unless "a las 10", "at 10"
        if suffix in ("am", "a.m.", "pm", "p.m."):
            if not 1 <= hour <= 12:
                return None, tokens, True
            hour = hour % 12 + (12 if suffix in ("pm", "p.m.") else 0)
        if hour > 23 or minute > 59:
            return None, tokens, True
        return time(hour, minute), tokens[:-take], False
    return None, tokens, False


def _day(words: list[str], today: date) -> tuple[date | None, bool]:
    """The day the words name, and whether they named one that does not exist (30/2)."""
    text = " ".join(w for w in words if w not in FILLER)
    if not text:
        return None, False
    if text in DAYS_FROM_TODAY:
        return today + timedelta(days=DAYS_FROM_TODAY[text]), False
    if text in WEEKDAYS:
        return today + timedelta(days=(WEEKDAYS[text] - today.weekday()) % 7), False
    numeric = _NUMERIC.match(text)
    if numeric:
        if numeric[1]:
            year, month, day = int(numeric[1]), int(numeric[2]), int(numeric[3])
        else:
            day, month = int(numeric[4]), int(numeric[5])
            year = int(numeric[6]) if numeric[6] else None
            if year is not None and year < 100:
                year += 2000
        return _date(year, month, day, today)
    named = text.split()
    # "5 dic 2026", "5 diciembre", "dec 5 2026", "december 5"
    if len(named) in (2, 3):
        first, second = named[0], named[1]
        year_word = named[2] if len(named) == 3 else None
        if first.isdigit() and second in MONTHS:
            day, month = int(first), MONTHS[second]
        elif first in MONTHS and second.isdigit():
            month, day = MONTHS[first], int(second)
        else:
            return None, False
        if year_word is not None and not (year_word.isdigit() and len(year_word) == 4):
            return None, False
        return _date(int(year_word) if year_word else None, month, day, today)
    return None, False


def _date(year: int | None, month: int, day: int, today: date) -> tuple[date | None, bool]:
    """A calendar day; without a year, the next one from today."""
    try:
        if year is not None:
            return date(year, month, day), False
        found = date(today.year, month, day)
        if found < today:
            found = date(today.year + 1, month, day)
        return found, False
    except ValueError:
        if year is None and month == 2 and day == 29:  # the next leap year's
            for ahead in range(1, 8):
                try:
                    return date(today.year + ahead, 2, 29), False
                except ValueError:
                    continue
        return None, True


def parse(text: str, timezone: str, now: datetime, *, default_time: time | None = None,
          needs_time: bool = False) -> Reading:
    """What `text` names, read in `timezone` at `now` (aware), as a UTC moment in the future.

    `default_time` completes a date written without one (else it is refused as NEEDS_TIME when
    `needs_time`, or taken at 00:00); a duration counts from `now`."""
    words = _plain(text)
    if not words:
        return Reading(None, Problem.UNREADABLE)
    span = _duration(words)
    if span is not None:
        if span <= timedelta():
            return Reading(None, Problem.PAST)
        return Reading((now + span).astimezone(UTC), relative=True)
    zone = _zone(timezone)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    tokens = words.split()
    at, rest, impossible = _time(tokens)
    if impossible:
        return Reading(None, Problem.UNREADABLE)
    if rest == ["tonight"]:
        at = at or time(20, 0)
    named = " ".join(w for w in rest if w not in FILLER)
    day, no_such_day = _day(rest, local_now.date())
    if no_such_day:
        return Reading(None, Problem.NO_SUCH_DAY)
    if day is None:  # a time alone names no day ("18:00": today's, or tomorrow's?)
        return Reading(None, Problem.UNREADABLE)
    if at is None:
        if needs_time and default_time is None:
            return Reading(None, Problem.NEEDS_TIME)
        at = default_time or time(0, 0)
    if named in WEEKDAYS and datetime.combine(day, at) <= local_now:
        day += timedelta(days=7)  # "viernes 18:00" typed on a Friday evening: the next one
    local = datetime.combine(day, at)
    aware = local.replace(tzinfo=zone, fold=0)
    moment = aware.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local:
        return Reading(None, Problem.GAP)
    if moment <= now:
        return Reading(None, Problem.PAST)
    return Reading(moment)


# --- how a moment reads ---------------------------------------------------------------------------
# Day before month in both languages ("jue 10 dic 2026, 10:00" / "Thu 10 Dec 2026, 10:00"), and a
# zone named as a place in Babel's location form ("hora de México (Ciudad de México)" /
# "Mexico (Mexico City) Time"), never an abbreviation that means several things ("CST").

MOMENT = "EEE d MMM y, HH:mm"
DAY = "EEE d MMM y"


def moment(value: datetime, timezone: str, locale: str, *, with_zone: bool = False) -> str:
    """A moment as the reader reads it, in their zone; with the zone's name when the moment is
    one others in other zones act on (a deadline, an action's start)."""
    zone = _zone(timezone)
    text = format_datetime(value, MOMENT, tzinfo=zone, locale=locale)
    return f"{text} ({zone_name(timezone, locale)})" if with_zone else text


def day(value: datetime | date, timezone: str, locale: str) -> str:
    """A day alone: a moment's day in the reader's zone, or a calendar day as it is."""
    if isinstance(value, datetime):
        return format_datetime(value, DAY, tzinfo=_zone(timezone), locale=locale)
    return format_date(value, DAY, locale=locale)


def zone_name(timezone: str, locale: str) -> str:
    """A zone as a place: "hora de Guatemala", "Spain (Madrid) Time"; UTC is UTC."""
    if timezone in ("UTC", "Etc/UTC"):
        return "UTC"
    return str(get_timezone_location(_zone(timezone), locale=locale))


def duration(seconds: float, locale: str) -> str:
    """A length of time in words ("3 días", "2 hours"), rounded as people say it."""
    return str(format_timedelta(seconds, locale=locale, threshold=1.1))


def zone_city(timezone: str, locale: str) -> str:
    """A zone's city as `locale` writes it ("Ciudad de México", "Mexico City")."""
    return str(get_timezone_location(_zone(timezone), locale=locale, return_city=True))


def relative(moment: datetime, now: datetime, locale: str) -> str:
    """How far a moment is from now, in words ("in 3 days", "dentro de 2 horas")."""
    return str(format_timedelta(moment - now, add_direction=True, threshold=1.1, locale=locale))

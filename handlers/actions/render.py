"""How an action reads in a chat, and its calendar file: functions of a `Text`, so `es`, `en`
and `both` come from one code path, in each chat's own time zone (Babel).

Titles, descriptions and places are coordinators' free text: escaped (HTML) here, once. No
organisation is ever named in these texts (a low-profile one must not be, rule Q).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import icalendar

from bot.db.models import Action
from bot.i18n import BOTH_SEPARATOR, LANGUAGES, N_, Text, escape

KIND: dict[str, str] = {
    "hearing": N_("Hearing"),
    "deadline": N_("Deadline"),
    "meeting": N_("Meeting"),
    "sign_on": N_("Sign-on closing"),
    "other": N_("Other"),
}
KIND_ICON = {"hearing": "🏛", "deadline": "⏳", "meeting": "👥", "sign_on": "✍️", "other": "📌"}
ANSWER: dict[str, str] = {
    "going": N_("Going"),
    "maybe": N_("Maybe"),
    "not_going": N_("Not going"),
}
ANSWER_ICON = {"going": "✅", "maybe": "🤔", "not_going": "❌"}
AUDIENCE: dict[str, str] = {
    "all": N_("All organisations"),
    "members": N_("Full members only"),
    "allies": N_("Allies only"),
    "kinds": N_("Some kinds of organisation"),
}
DURATION = timedelta(hours=1)  # the calendar event's length when none is known


def when(t: Text, value: datetime) -> str:
    """The start in the chat's time zone, with the zone named (people in several zones read
    the same action)."""
    return t.moment(value, with_zone=True)


OFFSET: dict[int, str] = {
    7 * 24 * 60: N_("7 days before"),
    3 * 24 * 60: N_("3 days before"),
    24 * 60: N_("1 day before"),
    3 * 60: N_("3 hours before"),
    60: N_("1 hour before"),
}


def offset_label(t: Text, minutes: int) -> str:
    if minutes in OFFSET:
        return t.tr(OFFSET[minutes])
    return t.tr_plural("{n} minute before", "{n} minutes before", minutes)


def answer_label(t: Text, value: str) -> str:
    return f"{ANSWER_ICON.get(value, '')} {t.tr(ANSWER[value])}".strip()


def _details(t: Text, action: Action) -> list[str]:
    assert action.starts_at is not None
    lines = [t.tr("🗓 When: {date}", date=when(t, action.starts_at))]
    if action.place:
        lines.append(t.tr("📍 Where: {place}", place=action.place))
    return lines


def announcement_section(t: Text, action: Action) -> str:
    lines = [
        t.tr("{icon} <b>Advocacy action: {kind}</b>", icon=KIND_ICON.get(action.kind, ""),
             kind=t.tr(KIND.get(action.kind, KIND["other"]))),
        f"<b>{escape(action.title)}</b>",
    ]
    if action.description:
        lines += ["", escape(action.description), ""]
    lines += _details(t, action)
    lines.append(t.tr("Will your organisation take part? Answer with the buttons below."))
    return "\n".join(lines)


def reminder_section(t: Text, action: Action, offset: int) -> str:
    lines = [t.tr("🔔 <b>Reminder</b> ({offset}): {title}", offset=offset_label(t, offset),
                  title=action.title)]
    lines += _details(t, action)
    return "\n".join(lines)


def moved_section(t: Text, action: Action, before: datetime) -> str:
    lines = [t.tr("🔁 <b>Moved</b>: {title}", title=action.title),
             t.tr("It was on {date}.", date=when(t, before))]
    lines += _details(t, action)
    lines.append(t.tr("Your organisation's answer stands; change it with the buttons below."))
    return "\n".join(lines)


def cancelled_section(t: Text, action: Action) -> str:
    assert action.starts_at is not None
    return "\n".join([t.tr("🚫 <b>Cancelled</b>: {title}", title=action.title),
                      t.tr("It was planned for {date}.", date=when(t, action.starts_at))])


def text_for(choice: str, timezone: str, build: Callable[[Text], str]) -> str:
    """`both` is Spanish then English; a chat's own time zone in each."""
    if choice == "both":
        return BOTH_SEPARATOR.join(build(Text(lang, timezone)) for lang in LANGUAGES)
    return build(Text(choice if choice in LANGUAGES else LANGUAGES[0], timezone))


def calendar_file(action: Action, prodid: str = "-//coalition-bot//actions//") -> bytes:
    """The action as an iCalendar (RFC 5545) event in UTC; its SEQUENCE is the version, so a
    calendar that imported an older copy replaces it, and a cancelled action says so."""
    assert action.starts_at is not None
    calendar = icalendar.Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"action-{action.id}@coalition-bot")
    event.add("dtstamp", action.updated_at.astimezone(UTC))
    event.add("dtstart", action.starts_at.astimezone(UTC))
    event.add("dtend", action.starts_at.astimezone(UTC) + DURATION)
    event.add("summary", action.title)
    if action.description:
        event.add("description", action.description)
    if action.place:
        event.add("location", action.place)
    event.add("sequence", action.version)
    event.add("status", "CANCELLED" if action.status == "cancelled" else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()

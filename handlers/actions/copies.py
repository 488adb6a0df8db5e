"""Actions' RSVP and calendar buttons, and the copies the outbox sends (announcement, reminder,
move, cancellation) in each target chat's language and time zone.

Kept apart from the handlers so the scheduled reminders (handlers/actions/tasks.py) render
exactly what the announcement carries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot import i18n
from bot.db.models import Action
from bot.delivery.outbox import Outgoing
from bot.services.actions import actions
from bot.services.alerts.alerts import Target
from handlers.actions import render as r
from handlers.shared.callback_data import action, encode


@action("acr")
@dataclasses.dataclass(frozen=True)
class RsvpPress:
    """Going / maybe / not going; the organisation comes from the chat and presser (rule A)."""

    action: int
    answer: str

    def valid(self) -> bool:
        return self.action > 0 and self.answer in actions.ANSWERS


@action("aci")
@dataclasses.dataclass(frozen=True)
class CalendarPress:
    """Send the action as an .ics file in this chat."""

    action: int

    def valid(self) -> bool:
        return self.action > 0


def rsvp_buttons(action_id: int, choice: str, calendar: bool = True
                 ) -> list[list[dict[str, Any]]]:
    """The three answers on one row, and the calendar file on the next."""
    row = [{"text": i18n.label(choice, lambda t, a=a: r.answer_label(t, a)),
            "callback_data": encode(RsvpPress(action_id, a))} for a in actions.ANSWERS]
    rows = [row]
    if calendar:
        rows.append([{"text": i18n.label(choice, lambda t: t.tr("📅 Add to calendar")),
                      "callback_data": encode(CalendarPress(action_id))}])
    return rows


def calendar_button(action_id: int, choice: str) -> list[dict[str, Any]]:
    return [{"text": i18n.label(choice, lambda t: t.tr("📅 Add to calendar")),
             "callback_data": encode(CalendarPress(action_id))}]


def _zone(target: Target, default_timezone: str) -> str:
    return target.timezone or default_timezone


def announcement_copy(default_timezone: str) -> actions.Render:
    def render(item: Action, target: Target) -> Outgoing:
        return Outgoing(target.chat_id,
                        text=r.text_for(target.language, _zone(target, default_timezone),
                                        lambda t: r.announcement_section(t, item)),
                        buttons=rsvp_buttons(item.id, target.language),
                        protect_content=target.protect)

    return render


def reminder_copy(default_timezone: str) -> Callable[[Action, Target, int], Outgoing]:
    def render(item: Action, target: Target, offset: int) -> Outgoing:
        return Outgoing(target.chat_id,
                        text=r.text_for(target.language, _zone(target, default_timezone),
                                        lambda t: r.reminder_section(t, item, offset)),
                        buttons=rsvp_buttons(item.id, target.language),
                        protect_content=target.protect)

    return render


def moved_copy(default_timezone: str) -> Callable[[Action, Target, datetime], Outgoing]:
    def render(item: Action, target: Target, before: datetime) -> Outgoing:
        return Outgoing(target.chat_id,
                        text=r.text_for(target.language, _zone(target, default_timezone),
                                        lambda t: r.moved_section(t, item, before)),
                        buttons=rsvp_buttons(item.id, target.language),
                        protect_content=target.protect)

    return render


def cancelled_copy(default_timezone: str) -> actions.Render:
    def render(item: Action, target: Target) -> Outgoing:
        return Outgoing(target.chat_id,
                        text=r.text_for(target.language, _zone(target, default_timezone),
                                        lambda t: r.cancelled_section(t, item)),
                        protect_content=target.protect)

    return render

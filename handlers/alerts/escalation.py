"""Escalation's scheduled rows (issue 8, rule S): the re-send to the silent organisations'
contacts at the lead time, and the flag to coordinators at the deadline.

The re-send is useful only before the deadline (found later it is marked missed); the flag always
runs. Both are fan-outs keyed by the alert, so a row run twice sends once. What other members read
names no other organisation; the coordinators' flags name the silent ones (their view).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot import i18n
from bot.config import Settings
from bot.db.engine import Database
from bot.db.models import Alert
from bot.delivery import outbox
from bot.i18n import Text
from bot.runtime import Runtime
from bot.scheduler import Due, TaskKind
from bot.services.alerts import escalation
from bot.services.alerts.escalation import SilentOrg
from bot.services.membership import members_view
from bot.services.shared import chats
from bot.services.shared.visibility import shown_name
from handlers.alerts.copies import answer_buttons
from handlers.alerts.render import alert_text

log = logging.getLogger(__name__)
MAX_LISTED = 60


def resend_header(t: Text, alert: Alert) -> str:
    return t.tr(
        "🔔 <b>Your organisation has not answered this alert, and its deadline is {date}.</b> "
        "Here it is again; please answer with the buttons below.",
        date=t.moment(alert.deadline, with_zone=True) if alert.deadline else "—")


def org_line(t: Text, org: SilentOrg) -> str:
    name = shown_name(org, coordinator_view=True) or "—"
    # Through tr, which escapes the name: an organisation called "Mujeres <30" made Telegram
    # refuse the whole list ("can't parse entities"), so the coordinators got nothing.
    return t.tr("• {name}", name=name) + (" " + t.tr("(low profile)") if org.low_profile else "")


def unreachable_text(t: Text, alert: Alert, orgs: list[SilentOrg]) -> str:
    lines = [t.tr("📵 <b>{title}</b>: these silent organisations have contacts I cannot write to "
                  "(they never started me or blocked me), so they did not get the alert again. "
                  "Please reach them another way:", title=alert.title)]
    for org in orgs[:MAX_LISTED]:
        lines.append(org_line(t, org) + " — " + t.tr_plural(
            "{n} unreachable contact", "{n} unreachable contacts", org.unreachable))
    if len(orgs) > MAX_LISTED:
        lines.append(t.tr("…and {n} more", n=t.number(len(orgs) - MAX_LISTED)))
    return "\n".join(lines)


def overdue_text(t: Text, alert: Alert, orgs: list[SilentOrg]) -> str:
    lines = [t.tr_plural("⏰ <b>{title}</b>: the deadline passed and {n} organisation has not "
                         "answered:",
                         "⏰ <b>{title}</b>: the deadline passed and {n} organisations have not "
                         "answered:", len(orgs), title=alert.title)]
    lines += [org_line(t, org) for org in orgs[:MAX_LISTED]]
    if len(orgs) > MAX_LISTED:
        lines.append(t.tr("…and {n} more", n=t.number(len(orgs) - MAX_LISTED)))
    return "\n".join(lines)


async def to_coordinators(session: Any, settings: Settings, key: str, now: Any,
                          build: Callable[[Text], str]) -> int:
    recipients = await members_view.coordination_recipients(
        session, settings.coordinator_ids, settings.coordination_chat_id)
    messages = []
    for r in recipients:
        choice = r.language if r.language in i18n.CHOICES else settings.default_language
        messages.append(outbox.Outgoing(r.chat_id, text=i18n.render(choice, settings.timezone,
                                                                    build)))
    return await outbox.enqueue(session, key, "alert.escalation", messages, now)


def task_kinds(rt: Runtime) -> list[TaskKind]:
    return escalation_kinds(rt.db, rt.settings, rt.wake_sender)


def escalation_kinds(db: Database, settings: Settings, wake: Callable[[], None]
                     ) -> list[TaskKind]:
    async def resend(due: Due) -> None:
        alert_id = int(due.payload.get("alert") or 0)
        async with db.transaction() as session:
            alert = await escalation.still_open(session, alert_id)
            if alert is None:
                return
            silent = await escalation.silent_orgs(session, alert_id)
            reached = [c for org in silent for c in org.reachable]
            languages, _ = await chats.languages_and_zones(session, reached)
            messages = []
            for org in silent:
                for chat in org.reachable:
                    choice = languages.get(chat) or settings.default_language
                    header = i18n.render(choice, settings.timezone,
                                         lambda t: resend_header(t, alert))
                    messages.append(outbox.Outgoing(
                        chat, text=header + "\n\n" + alert_text(alert, choice, settings.timezone),
                        buttons=answer_buttons(alert, choice) or None,
                        protect_content=org.low_profile))
            await outbox.enqueue(session, f"alert.escalate:{alert_id}", "alert.escalate",
                                 messages, due.now)
            lost = [org for org in silent if org.unreachable]
            if lost:
                await to_coordinators(session, settings, f"alert.unreachable:{alert_id}",
                                      due.now, lambda t: unreachable_text(t, alert, lost))
        wake()
        log.info("alerts.escalated alert=%d orgs=%d chats=%d", alert_id, len(silent),
                 len(messages))

    def before_deadline(due: Due) -> bool:
        deadline = due.payload.get("deadline")
        return deadline is None or due.now.timestamp() < float(deadline)

    async def overdue(due: Due) -> None:
        alert_id = int(due.payload.get("alert") or 0)
        async with db.transaction() as session:
            alert = await escalation.still_open(session, alert_id)
            if alert is None:
                return
            silent = await escalation.silent_orgs(session, alert_id)
            if silent:
                await to_coordinators(session, settings, f"alert.overdue:{alert_id}", due.now,
                                      lambda t: overdue_text(t, alert, silent))
        wake()
        log.info("alerts.overdue alert=%d silent=%d", alert_id, len(silent))

    return [TaskKind(escalation.RESEND_KIND, resend, before_deadline),
            TaskKind(escalation.OVERDUE_KIND, overdue)]

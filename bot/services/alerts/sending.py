"""The Send sequence, written once: the composer's Send and a second coordinator's Approve (the
two-person rule) both call `send_alert`.

It owns its transaction (the handler stays thin and cannot leave half of it undone): the alert
is marked sent and its copies go to the outbox (`alerts.send`); its follow-ups are scheduled
(rule S: an urgent alert's automatic nudge, the escalation's re-send before the deadline and its
flag at the deadline); with the rule on, an urgent alert that went at once is told to the other
coordinators; and the composer's open flow on this alert is closed, wherever they are.

What the copies and the coordinators' note read like is the display layer's: the handler passes
the two renderers in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db.engine import Database
from bot.db.models import Alert
from bot.delivery import outbox
from bot.scheduler import schedule
from bot.services.alerts import alerts, escalation, review
from bot.services.membership.members_view import Recipient
from bot.services.shared import conversations

NUDGE_KIND = "alerts.nudge"
COMPOSER_FLOW = "alert"

# What another coordinator reads of an urgent alert that went at once (the display's).
FlagCopy = Callable[[Alert, Recipient], outbox.Outgoing]


async def send_alert(db: Database, settings: Settings, alert_id: int, actor: int, now: datetime,
                     copy: alerts.Render, flag: FlagCopy, *, report_chat_id: int,
                     approving: bool = False) -> alerts.Sent | None:
    """Send (or approve) the alert; None when it cannot go (not a draft of the actor's, not
    waiting for approval, not ready), `first=False` when it already went (a double tap)."""
    async with db.transaction() as session:
        sent = await alerts.send(session, alert_id, actor, now, copy, settings.default_language,
                                 report_chat_id=report_chat_id, approving=approving)
        if sent is None or not sent.first:
            return sent
        alert = await alerts.get(session, alert_id)
        assert alert is not None  # it was just marked sent, in this transaction
        await schedule_followups(session, alert, now,
                                 timedelta(hours=settings.escalation_lead_hours))
        if settings.two_person_rule and not approving:
            others = await review.other_coordinators(
                session, settings.coordinator_ids, settings.coordination_chat_id, actor)
            if others:
                await outbox.enqueue(session, f"alert.urgent_flag:{alert_id}", "alert.flag",
                                     [flag(alert, r) for r in others], now)
        if alert.composed_by is not None:
            await close_composer(session, alert.composed_by, alert_id, now)
    return sent


async def schedule_followups(session: AsyncSession, alert: Alert, now: datetime,
                             lead: timedelta) -> None:
    """The scheduled rows a sent alert gets: the urgent alert's automatic nudge, and the
    escalation of an alert asking for acknowledgement by a deadline."""
    if alert.severity == "urgent" and alert.auto_nudge_hours and alert.asks:
        await schedule(session, NUDGE_KIND, now + timedelta(hours=alert.auto_nudge_hours),
                       {"alert": alert.id}, dedupe_key=f"{NUDGE_KIND}:{alert.id}")
    if escalation.applies(alert) and alert.deadline is not None:
        at = escalation.resend_at(alert, now, lead)
        if at is not None:
            await schedule(session, escalation.RESEND_KIND, at,
                           {"alert": alert.id, "deadline": alert.deadline.timestamp()},
                           dedupe_key=f"{escalation.RESEND_KIND}:{alert.id}")
        await schedule(session, escalation.OVERDUE_KIND, max(alert.deadline, now),
                       {"alert": alert.id}, dedupe_key=f"{escalation.OVERDUE_KIND}:{alert.id}")


async def close_composer(session: AsyncSession, composer: int, alert_id: int,
                         now: datetime) -> None:
    """The composer's flow on this alert is over (their private chat: the composer runs there);
    a flow they opened since on something else stays."""
    state = await conversations.current(session, composer, composer, now)
    if state is not None and state.flow == COMPOSER_FLOW \
            and int(state.data.get("alert") or 0) == alert_id:
        await conversations.finish(session, composer, composer)

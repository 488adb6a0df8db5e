"""The automatic nudge of an urgent alert: a scheduled row (rule S) that sends the one reminder
to the organisations still silent, exactly as the /alerts button does (same fan-out key, so a
manual nudge before it makes it a no-op).

Registered in bot/app.py beside the maintenance purge; lives with the handlers because the
reminder carries the answer buttons (handlers/alerts/copies.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.config import Settings
from bot.db.engine import Database
from bot.runtime import Runtime
from bot.scheduler import Due, TaskKind, schedule
from bot.services.alerts import alerts, escalation
from handlers.alerts.copies import nudge_copy

log = logging.getLogger(__name__)
NUDGE_KIND = "alerts.nudge"


def task_kinds(rt: Runtime) -> list[TaskKind]:
    return [nudge_kind(rt.db, rt.settings, rt.wake_sender)]


def nudge_kind(db: Database, settings: Settings, wake: Callable[[], None]) -> TaskKind:
    async def run(due: Due) -> None:
        alert_id = int(due.payload.get("alert") or 0)
        async with db.transaction() as session:
            done = await alerts.nudge(session, alert_id, due.now, nudge_copy(settings.timezone))
        if done is not None and done.first:
            wake()
        log.info("alerts.auto_nudge alert=%d sent=%s", alert_id,
                 bool(done is not None and done.first))

    # A reminder is worth sending late too: the silent organisations still have not answered.
    return TaskKind(NUDGE_KIND, run)


async def schedule_followups(session: Any, alert_id: int, now: datetime,
                             settings: Settings) -> None:
    """The scheduled rows an alert gets when it is sent (by its composer, or approved by a
    second coordinator): the urgent alert's automatic nudge, and the escalation of an alert
    asking for acknowledgement by a deadline (re-send at the lead time, flag at the deadline)."""
    alert = await alerts.get(session, alert_id)
    if alert is None:
        return
    if alert.severity == "urgent" and alert.auto_nudge_hours and alert.asks:
        await schedule(session, NUDGE_KIND, now + timedelta(hours=alert.auto_nudge_hours),
                       {"alert": alert.id}, dedupe_key=f"{NUDGE_KIND}:{alert.id}")
    if escalation.applies(alert) and alert.deadline is not None:
        at = escalation.resend_at(alert, now,
                                        timedelta(hours=settings.escalation_lead_hours))
        if at is not None:
            await schedule(session, escalation.RESEND_KIND, at,
                           {"alert": alert.id, "deadline": alert.deadline.timestamp()},
                           dedupe_key=f"{escalation.RESEND_KIND}:{alert.id}")
        await schedule(session, escalation.OVERDUE_KIND, max(alert.deadline, now),
                       {"alert": alert.id},
                       dedupe_key=f"{escalation.OVERDUE_KIND}:{alert.id}")

"""The automatic nudge of an urgent alert: a scheduled row (rule S) that sends the one reminder
to the organisations still silent, exactly as the /alerts button does (same fan-out key, so a
manual nudge before it makes it a no-op).

Registered in bot/app.py beside the maintenance purge; lives with the handlers because the
reminder carries the answer buttons (handlers/alerts/copies.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.config import Settings
from bot.db.engine import Database
from bot.runtime import Runtime
from bot.scheduler import Due, TaskKind
from bot.services.alerts import alerts, sending
from handlers.alerts.copies import nudge_copy

log = logging.getLogger(__name__)
NUDGE_KIND = sending.NUDGE_KIND  # scheduled by the Send sequence


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

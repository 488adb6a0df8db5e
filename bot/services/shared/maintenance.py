"""Housekeeping that runs as a scheduled row every hour: purge what rule Q says not to keep."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.db.engine import Database
from bot.intake import store
from bot.scheduler import Due, TaskKind, schedule
from bot.services.safety import erasure
from bot.services.shared import conversations

log = logging.getLogger(__name__)
KIND = "maintenance.purge"


def _next_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


async def ensure_scheduled(db: Database, now: datetime) -> None:
    """Keep one purge row ahead; the hourly key makes every instance's call add the same row."""
    due = _next_hour(now)
    async with db.transaction() as session:
        await schedule(session, KIND, due, dedupe_key=f"{KIND}:{due:%Y%m%d%H}")


def purge_kind(db: Database, retention_days: int) -> TaskKind:
    async def run(due: Due) -> None:
        async with db.transaction() as session:
            updates = await store.purge_handled(session, due.now)
            flows = await conversations.purge_expired(session, due.now)
            retained = await erasure.purge_retained(session, due.now, retention_days)
            nxt = _next_hour(due.now)
            await schedule(session, KIND, nxt, dedupe_key=f"{KIND}:{nxt:%Y%m%d%H}")
        await db.checkpoint()
        log.info("maintenance.purged updates=%d conversations=%d retained=%d",
                 updates, flows, retained)

    # Purging late is as good as purging on time; a gap is covered by one run.
    return TaskKind(KIND, run)

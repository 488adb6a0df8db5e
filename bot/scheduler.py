"""Scheduled work as rows (rule S): one table, a sweeper that claims due rows, one clock.

APScheduler (through PTB's JobQueue) only wakes the sweeper every few seconds; it keeps nothing.
The sweeper claims due rows in a transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's
single writer does the same), so each row runs once whatever the number of instances. A row found
late runs if its kind says it is still useful, else it is marked missed. A row whose run failed is
retried with backoff, then marked failed. After a restart nothing is rebuilt: the rows are there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.engine import Database
from bot.db.models import ScheduledTask
from bot.db.upsert import insert_ignore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 50


@dataclass(frozen=True)
class Due:
    """What a task's code receives: its row's values, and when it was meant to run."""

    id: int
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    now: datetime

    @property
    def lateness(self) -> timedelta:
        return self.now - self.due_at


Runner = Callable[[Due], Awaitable[None]]


def always(_: Due) -> bool:
    return True


@dataclass
class TaskKind:
    """A kind of scheduled work: how to run it, and whether it is still worth running late."""

    name: str
    run: Runner
    still_useful: Callable[[Due], bool] = field(default=always)


async def schedule(session: AsyncSession, kind: str, due_at: datetime,
                   payload: dict[str, Any] | None = None, dedupe_key: str | None = None) -> None:
    """Add a scheduled row in the caller's transaction; the same `dedupe_key` twice adds one."""
    values = {"kind": kind, "due_at": due_at, "payload": payload or {}, "status": "pending",
              "attempts": 0, "dedupe_key": dedupe_key}
    if dedupe_key is None:
        session.add(ScheduledTask(**values))
    else:
        await session.execute(insert_ignore(session, ScheduledTask).values(**values))


class Scheduler:
    def __init__(self, db: Database, clock: Clock, instance: str) -> None:
        self.db = db
        self.clock = clock
        self.instance = instance
        self.kinds: dict[str, TaskKind] = {}
        self._lock = asyncio.Lock()
        self._interrupted = False
        # Sweeps run to the end (nothing left due): whatever was due when one began has run, so
        # a test that moved the clock waits for the next one instead of sleeping.
        self.sweeps = 0

    def register(self, kind: TaskKind) -> None:
        self.kinds[kind.name] = kind

    async def take_back(self, dead: set[str]) -> int:
        """Runs cut short by an instance that died go back to pending."""
        if not dead:
            return 0
        async with self.db.transaction() as session:
            result = await session.execute(
                update(ScheduledTask)
                .where(ScheduledTask.status == "running", ScheduledTask.claimed_by.in_(dead))
                .values(status="pending", claimed_by=None))
        if result.rowcount:
            log.info("scheduler.runs_taken_back count=%d", result.rowcount)
        return result.rowcount or 0

    async def sweep(self) -> int:
        """Claim and run every due row; returns how many ran. Never overlaps itself."""
        if self._lock.locked():
            return 0
        async with self._lock:
            await self.clock.sync()
            if self._interrupted:
                await self._take_back_own()
                self._interrupted = False
            total = 0
            try:
                while True:
                    claimed = await self._claim()
                    if not claimed:
                        self.sweeps += 1
                        return total
                    for due in claimed:
                        await self._run_one(due)
                    total += len(claimed)
            except Exception:
                # A claim or a row's end not recorded (the database went away): rows of ours
                # may be left `running`; the next sweep hands them back.
                self._interrupted = True
                raise

    async def _take_back_own(self) -> None:
        """Rows this instance left `running` when a sweep was cut short (the database was
        unreachable: a claim whose commit's answer was lost, a run whose end was not recorded) go
        back to pending. Sweeps never overlap, so at the start of one no row of ours is really
        running; without this such a row would wait for this instance to die, forever."""
        async with self.db.transaction() as session:
            result = await session.execute(
                update(ScheduledTask)
                .where(ScheduledTask.status == "running",
                       ScheduledTask.claimed_by == self.instance)
                .values(status="pending", claimed_by=None))
        if result.rowcount:
            log.warning("scheduler.own_runs_taken_back count=%d", result.rowcount)

    async def _claim(self) -> list[Due]:
        now = self.clock.now()
        async with self.db.transaction() as session:
            query = (
                select(ScheduledTask.id, ScheduledTask.kind, ScheduledTask.due_at,
                       ScheduledTask.payload)
                .where(ScheduledTask.status == "pending", ScheduledTask.due_at <= now)
                .order_by(ScheduledTask.due_at, ScheduledTask.id)
                .limit(BATCH)
            )
            if self.db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                return []
            await session.execute(
                update(ScheduledTask)
                .where(ScheduledTask.id.in_([r[0] for r in rows]))
                .values(status="running", claimed_by=self.instance, claimed_at=now,
                        attempts=ScheduledTask.attempts + 1)
            )
        return [Due(r[0], r[1], r[2], dict(r[3] or {}), now) for r in rows]

    async def _run_one(self, due: Due) -> None:
        kind = self.kinds.get(due.kind)
        if kind is None:
            await self._finish(due.id, "failed", "unknown kind")
            log.error("scheduler.unknown_kind task=%d", due.id)
            return
        if not kind.still_useful(due):
            await self._finish(due.id, "missed")
            log.info("scheduler.missed task=%d kind=%s", due.id, due.kind)
            return
        try:
            await kind.run(due)
        except Exception as exc:
            log.exception("scheduler.run_failed task=%d kind=%s", due.id, due.kind)
            await self._retry_or_fail(due, type(exc).__name__)
            return
        await self._finish(due.id, "done")
        log.info("scheduler.done task=%d kind=%s late_s=%d", due.id, due.kind,
                 max(0, int(due.lateness.total_seconds())))

    async def _finish(self, task_id: int, status: str, error: str | None = None) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(ScheduledTask)
                .where(ScheduledTask.id == task_id)
                .values(status=status, finished_at=self.clock.now(), last_error=error)
            )

    async def _retry_or_fail(self, due: Due, error: str) -> None:
        async with self.db.transaction() as session:
            row = await session.get(ScheduledTask, due.id)
            if row is None:
                return
            if row.attempts >= MAX_ATTEMPTS:
                row.status, row.finished_at = "failed", self.clock.now()
            else:
                row.status = "pending"
                row.due_at = self.clock.now() + timedelta(seconds=10 * 2 ** row.attempts)
            row.last_error = error[:200]

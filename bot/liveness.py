"""Which bot instances are alive, and named leases (e.g. the sender's), across instances.

PostgreSQL: each instance holds a session-level advisory lock named after itself on a connection
of its own; a process that dies loses its connection and so its locks at once. Another instance
tells a dead claimer from a busy one by trying that lock, and takes a lease by taking the lease's
lock: failover is immediate, with no time-outs to wait out.

SQLite: one process owns the database (only one instance may long-poll a token anyway), so a
start takes back every claim and lease left by a previous process; heartbeats in `instances`
cover the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time

from sqlalchemy import delete, or_, select, text, union, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import Database
from bot.db.models import Instance, Lease, OutboxRow, SavedUpdate, ScheduledTask
from bot.db.states import OutboxState
from bot.db.upsert import insert_ignore

log = logging.getLogger(__name__)

BEAT_EVERY_S = 2.0
DEAD_AFTER_MS = 10_000
LEASE_TTL_MS = 10_000


def now_ms() -> int:
    return int(time.time() * 1000)


def lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Liveness:
    def __init__(self, db: Database, instance: str) -> None:
        self.db = db
        self.instance = instance
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._leases: set[str] = set()
        self._ever_held: set[str] = set()
        self.first_start = True

    async def start(self) -> None:
        if self.db.is_postgres:
            await self._connect()
        await self.beat()

    async def _connect(self) -> None:
        self._conn = await self.db.engine.connect()
        await self._conn.execute(text("SELECT pg_advisory_lock(:k)"),
                                 {"k": lock_key(f"instance:{self.instance}")})
        await self._conn.commit()
        self._leases.clear()

    async def stop(self) -> None:
        for name in list(self._leases):
            await self.release(name)
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        async with self.db.transaction() as session:
            await session.execute(delete(Instance).where(Instance.id == self.instance))
            await session.execute(
                delete(Instance).where(Instance.heartbeat_ms < now_ms() - 24 * 3600 * 1000))

    async def beat(self) -> None:
        """Record that this instance is alive; on PostgreSQL also check its own connection."""
        ms = now_ms()
        async with self.db.transaction() as session:
            await session.execute(insert_ignore(session, Instance).values(
                id=self.instance, started_ms=ms, heartbeat_ms=ms))
            await session.execute(
                update(Instance).where(Instance.id == self.instance).values(heartbeat_ms=ms))
        if self.db.is_postgres:
            async with self._lock:
                try:
                    assert self._conn is not None
                    await self._conn.execute(text("SELECT 1"))
                    await self._conn.commit()
                except Exception:
                    log.warning("liveness.connection_lost reconnecting")
                    self._leases.clear()
                    if self._conn is not None:
                        with contextlib.suppress(Exception):
                            await self._conn.invalidate()
                    await self._connect()

    async def dead_claimers(self) -> set[str]:
        """Instances that hold claims (updates, outbox rows, scheduled runs) but are gone."""
        async with self.db.sessions() as session:
            claimers = set((await session.execute(union(
                select(SavedUpdate.claimed_by).where(SavedUpdate.status == "handling"),
                select(OutboxRow.claimed_by).where(OutboxRow.state == OutboxState.SENDING),
                select(ScheduledTask.claimed_by).where(ScheduledTask.status == "running"),
            ))).scalars().all())
        claimers.discard(None)
        claimers.discard(self.instance)
        if not claimers:
            return set()
        if self.db.is_sqlite:
            if self.first_start:
                return set(claimers)  # type: ignore[arg-type]
            async with self.db.sessions() as session:
                alive = set((await session.execute(select(Instance.id).where(
                    Instance.heartbeat_ms >= now_ms() - DEAD_AFTER_MS))).scalars().all())
            return {c for c in claimers if c not in alive}  # type: ignore[misc]
        dead = set()
        async with self._lock:
            assert self._conn is not None
            for claimer in claimers:
                key = lock_key(f"instance:{claimer}")
                got = (await self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                                {"k": key})).scalar()
                if got:
                    await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    dead.add(claimer)
            await self._conn.commit()
        return dead  # type: ignore[return-value]

    async def hold(self, name: str) -> bool:
        """Take or keep the lease `name`; True while this instance holds it."""
        if self.db.is_postgres:
            if name in self._leases:
                return True
            async with self._lock:
                assert self._conn is not None
                got = bool((await self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                                     {"k": lock_key(f"lease:{name}")})).scalar())
                await self._conn.commit()
            if got:
                self._leases.add(name)
            return got
        ms = now_ms()
        async with self.db.transaction() as session:
            await session.execute(insert_ignore(session, Lease).values(
                name=name, holder=self.instance, expires_ms=ms + LEASE_TTL_MS))
            # The first take in this process steals: on SQLite the previous holder is gone.
            steal = name not in self._ever_held
            condition = or_(Lease.holder == self.instance, Lease.expires_ms < ms)
            result = await session.execute(
                update(Lease).where(Lease.name == name, *(() if steal else (condition,)))
                .values(holder=self.instance, expires_ms=ms + LEASE_TTL_MS))
        got = (result.rowcount or 0) == 1
        if got:
            self._leases.add(name)
            self._ever_held.add(name)
        return got

    async def release(self, name: str) -> None:
        self._leases.discard(name)
        if self.db.is_postgres:
            async with self._lock:
                if self._conn is not None:
                    try:
                        await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"),
                                                 {"k": lock_key(f"lease:{name}")})
                        await self._conn.commit()
                    except Exception:
                        # The connection is gone, and the lease's lock went with it.
                        log.warning("liveness.release_on_lost_connection lease=%s", name)
            return
        async with self.db.transaction() as session:
            await session.execute(
                delete(Lease).where(Lease.name == name, Lease.holder == self.instance))

"""Which bot instances are alive: a heartbeat row per process (see `Instance`).

One process on SQLite takes back every claim at start. With several instances (PostgreSQL), a
claim is taken back only when its holder's heartbeat is older than `DEAD_AFTER`, so a busy
instance is never robbed and a killed one is replaced within seconds.
"""

from __future__ import annotations

import time

from sqlalchemy import delete, select, update

from bot.db.engine import Database
from bot.db.models import Instance
from bot.db.upsert import insert_ignore

BEAT_EVERY_S = 2.0
DEAD_AFTER_MS = 10_000


def now_ms() -> int:
    return int(time.time() * 1000)


async def beat(db: Database, instance: str) -> None:
    """Record that this instance is alive (inserting its row the first time)."""
    ms = now_ms()
    async with db.transaction() as session:
        await session.execute(
            insert_ignore(session, Instance).values(id=instance, started_ms=ms, heartbeat_ms=ms))
        await session.execute(
            update(Instance).where(Instance.id == instance).values(heartbeat_ms=ms))


async def alive(db: Database) -> set[str]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(Instance.id).where(Instance.heartbeat_ms >= now_ms() - DEAD_AFTER_MS))
        return set(rows.scalars().all())


async def forget(db: Database, instance: str) -> None:
    """A clean stop: the instance's claims are all finished, so nobody needs to wait for it."""
    async with db.transaction() as session:
        await session.execute(delete(Instance).where(Instance.id == instance))
    async with db.transaction() as session:
        await session.execute(
            delete(Instance).where(Instance.heartbeat_ms < now_ms() - 24 * 3600 * 1000))

"""Named leases in the database: one holder at a time across instances (e.g. the sender).

A lease is held until its expiry (wall-clock milliseconds) unless renewed; a killed holder's lease
runs out and another instance takes it over within `TTL_MS`.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, update

from bot.db.engine import Database
from bot.db.models import Lease
from bot.db.upsert import insert_ignore
from bot.liveness import now_ms

TTL_MS = 10_000
RENEW_EVERY_S = 2.0


async def acquire(db: Database, name: str, holder: str) -> bool:
    """Take or renew the lease; True while this holder has it."""
    ms = now_ms()
    async with db.transaction() as session:
        await session.execute(insert_ignore(session, Lease).values(
            name=name, holder=holder, expires_ms=ms + TTL_MS))
        result = await session.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_ms < ms))
            .values(holder=holder, expires_ms=ms + TTL_MS))
        return (result.rowcount or 0) == 1


async def release(db: Database, name: str, holder: str) -> None:
    async with db.transaction() as session:
        await session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))

"""Saved updates (rule U): written before Telegram is told we have them, handled from here.

An update is claimed only when no earlier update of its lane (its chat, or the person for updates
without a chat) is waiting or being handled, so one chat's updates are handled in order while
different chats proceed side by side, also across instances.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import Database
from bot.db.models import SavedUpdate
from bot.db.upsert import insert_ignore

RETENTION = timedelta(days=1)
CLAIM_LOCK_KEY = 0x636C61696D  # "claim": serialises claims between instances on PostgreSQL

_CLAIM_SQL = """
SELECT s.update_id FROM saved_updates s
WHERE s.status = 'received'
  AND NOT EXISTS (SELECT 1 FROM saved_updates h
                  WHERE h.lane = s.lane AND h.status = 'handling')
  AND NOT EXISTS (SELECT 1 FROM saved_updates e
                  WHERE e.lane = s.lane AND e.status = 'received' AND e.update_id < s.update_id)
ORDER BY s.update_id
LIMIT :n
"""


@dataclass(frozen=True)
class Claimed:
    update_id: int
    lane: int
    payload: dict[str, Any]


def lane_of(update: dict[str, Any]) -> int:
    """The ordering key of an update: its chat, else the person, else 0."""
    for key in ("message", "edited_message", "channel_post", "my_chat_member", "chat_member",
                "chat_join_request"):
        if key in update:
            return int(update[key]["chat"]["id"])
    if "callback_query" in update:
        query = update["callback_query"]
        message = query.get("message")
        if message and "chat" in message:
            return int(message["chat"]["id"])
        return int(query["from"]["id"])
    if "poll_answer" in update:
        answer = update["poll_answer"]
        if "user" in answer:
            return int(answer["user"]["id"])
        return int(answer.get("voter_chat", {}).get("id", 0))
    return 0


async def save(db: Database, updates: Iterable[dict[str, Any]], now: datetime) -> int:
    """Save updates by update_id; one already saved (a re-delivery) is ignored."""
    rows = [
        {"update_id": int(u["update_id"]), "payload": json.dumps(u, separators=(",", ":")),
         "status": "received", "lane": lane_of(u), "attempts": 0, "received_at": now}
        for u in updates
    ]
    if not rows:
        return 0
    async with db.transaction() as session:
        await session.execute(insert_ignore(session, SavedUpdate), rows)
    return len(rows)


async def claim(db: Database, instance: str, limit: int, now: datetime) -> list[Claimed]:
    """Claim up to `limit` updates, each the next of a lane nobody is handling."""
    if limit <= 0:
        return []
    async with db.transaction() as session:
        if db.is_postgres:
            # Serialise claims between instances: the lane conditions read other rows.
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CLAIM_LOCK_KEY})
        ids = (await session.execute(text(_CLAIM_SQL), {"n": limit})).scalars().all()
        if not ids:
            return []
        await session.execute(
            update(SavedUpdate)
            .where(SavedUpdate.update_id.in_(ids))
            .values(status="handling", claimed_by=instance, started_at=now,
                    attempts=SavedUpdate.attempts + 1)
        )
        rows = (
            await session.execute(
                select(SavedUpdate.update_id, SavedUpdate.lane, SavedUpdate.payload)
                .where(SavedUpdate.update_id.in_(ids))
                .order_by(SavedUpdate.update_id)
            )
        ).all()
    return [Claimed(r[0], int(r[1] or 0), json.loads(r[2])) for r in rows]


async def mark_done(db: Database, update_ids: list[int], now: datetime) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(SavedUpdate)
            .where(SavedUpdate.update_id.in_(update_ids))
            .values(status="done", handled_at=now)
        )


async def take_back_claims(db: Database, dead: set[str]) -> int:
    """Return the updates claimed by dead instances to the queue."""
    if not dead:
        return 0
    async with db.transaction() as session:
        result = await session.execute(
            update(SavedUpdate)
            .where(SavedUpdate.status == "handling", SavedUpdate.claimed_by.in_(dead))
            .values(status="received", claimed_by=None))
        return result.rowcount or 0


async def purge_handled(session: AsyncSession, now: datetime) -> int:
    """Rule Q: a saved update holds message texts; delete it a day after it was handled."""
    result = await session.execute(
        delete(SavedUpdate).where(
            SavedUpdate.status == "done", SavedUpdate.handled_at < now - RETENTION
        )
    )
    return result.rowcount or 0


async def counts(db: Database) -> dict[str, int]:
    async with db.sessions() as session:
        rows = (
            await session.execute(
                select(SavedUpdate.status, func.count()).group_by(SavedUpdate.status)
            )
        ).all()
    return {status: n for status, n in rows}

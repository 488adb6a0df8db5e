"""Guided flows kept in the database (rule C): keyed by chat and person; any instance goes on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Conversation

LIFETIME = timedelta(hours=24)


@dataclass
class State:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


async def current(session: AsyncSession, chat_id: int, user_id: int, now: datetime) -> State | None:
    """The person's open flow in this chat; an expired one counts as none."""
    row = await session.get(Conversation, (chat_id, user_id))
    if row is None:
        return None
    if row.expires_at <= now:
        await session.delete(row)
        return None
    return State(row.flow, row.step, dict(row.data or {}))


async def save(session: AsyncSession, chat_id: int, user_id: int, state: State,
               now: datetime) -> None:
    row = await session.get(Conversation, (chat_id, user_id))
    if row is None:
        row = Conversation(chat_id=chat_id, user_id=user_id)
        session.add(row)
    row.flow, row.step, row.data = state.flow, state.step, dict(state.data)
    row.updated_at, row.expires_at = now, now + LIFETIME


async def finish(session: AsyncSession, chat_id: int, user_id: int) -> None:
    await session.execute(
        delete(Conversation).where(Conversation.chat_id == chat_id, Conversation.user_id == user_id)
    )


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(Conversation).where(Conversation.expires_at <= now))
    return result.rowcount or 0

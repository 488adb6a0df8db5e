"""Chats the bot is in, and each chat's own language and time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Chat
from bot.db.upsert import insert_ignore
from bot.i18n import CHOICES


@dataclass(frozen=True)
class ChatSettings:
    language: str | None
    timezone: str | None


async def ensure_chat(session: AsyncSession, chat_id: int, chat_type: str, now: datetime) -> None:
    """Record a chat the first time the bot sees it; an existing row is left as it is."""
    await session.execute(
        insert_ignore(session, Chat).values(
            id=chat_id, type=chat_type, active=True, created_at=now, updated_at=now
        )
    )


async def chat_settings(session: AsyncSession, chat_id: int) -> ChatSettings:
    row = (
        await session.execute(select(Chat.language, Chat.timezone).where(Chat.id == chat_id))
    ).one_or_none()
    return ChatSettings(language=row[0], timezone=row[1]) if row else ChatSettings(None, None)


async def set_language(
    session: AsyncSession, chat_id: int, chat_type: str, language: str, now: datetime
) -> None:
    if language not in CHOICES:
        raise ValueError(language)
    await ensure_chat(session, chat_id, chat_type, now)
    await session.execute(
        update(Chat).where(Chat.id == chat_id).values(language=language, updated_at=now)
    )


async def set_timezone(
    session: AsyncSession, chat_id: int, chat_type: str, timezone: str, now: datetime
) -> None:
    await ensure_chat(session, chat_id, chat_type, now)
    await session.execute(
        update(Chat).where(Chat.id == chat_id).values(timezone=timezone, updated_at=now)
    )


async def set_active(session: AsyncSession, chat_id: int, chat_type: str, active: bool,
                     now: datetime) -> None:
    """The bot was added to or removed from a group (or a person blocked it)."""
    await ensure_chat(session, chat_id, chat_type, now)
    await session.execute(
        update(Chat).where(Chat.id == chat_id).values(active=active, updated_at=now)
    )

"""Chats the bot is in, and each chat's own language and time zone.

The one place the rule for the language a chat is written in lives (rule L): the chat's own
choice, else, in a private chat, the person's Telegram language, else the caller's fallback (the
organisation's language, the default). Every capability asks `languages_and_zones` (many chats,
one query a chunk) or `language_of` (one chat).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import Database
from bot.db.models import Chat, Conversation, MemberChat, OutboxRow, Person
from bot.db.states import OUTBOX_LIVE
from bot.db.upsert import insert_ignore
from bot.i18n import CHOICES, normalise

# (model, chat-id column, condition limiting which rows move) for every table that names a chat.
CHAT_REFERENCES: list[tuple[Any, str, Any]] = [
    (OutboxRow, "chat_id", OutboxRow.state.in_(OUTBOX_LIVE)),
    (Conversation, "chat_id", None),
    (MemberChat, "chat_id", None),
]


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


async def languages_and_zones(session: AsyncSession, chat_ids: list[int]
                              ) -> tuple[dict[int, str], dict[int, str]]:
    """Each chat's own language choice, else (private) its person's Telegram language, and each
    chat's own time zone; a chat with neither is absent, so the caller's fallback applies."""
    found: dict[int, str] = {}
    zones: dict[int, str] = {}
    for start in range(0, len(chat_ids), 900):
        chunk = chat_ids[start:start + 900]
        for chat_id, lang, zone in (await session.execute(
                select(Chat.id, Chat.language, Chat.timezone).where(Chat.id.in_(chunk)))).all():
            if lang:
                found[int(chat_id)] = str(lang)
            if zone:
                zones[int(chat_id)] = str(zone)
        private = [c for c in chunk if c > 0 and c not in found]
        if private:
            for person, code in (await session.execute(
                    select(Person.id, Person.language_code).where(Person.id.in_(private)))).all():
                lang = normalise(code)
                if lang:
                    found[int(person)] = lang
    return found, zones


async def language_of(session: AsyncSession, chat_id: int, fallback: str) -> str:
    """The language to write to one chat in (the rule above), for messages the bot writes first:
    approval requests, decisions, relays, a last message."""
    found, _ = await languages_and_zones(session, [chat_id])
    return found.get(chat_id, fallback)


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


async def zones_in_use(session: AsyncSession, limit: int = 6) -> list[str]:
    """The zones the coalition's chats read their dates in, the most used first: what /timezone
    offers before anything else."""
    rows = (await session.execute(
        select(Chat.timezone, func.count()).where(Chat.timezone.is_not(None), Chat.active)
        .group_by(Chat.timezone).order_by(func.count().desc(), Chat.timezone).limit(limit)
    )).all()
    return [zone for zone, _ in rows if zone]


async def known(session: AsyncSession, chat_id: int) -> bool:
    return await session.get(Chat, chat_id) is not None


async def set_active(session: AsyncSession, chat_id: int, chat_type: str, active: bool,
                     now: datetime) -> None:
    """The bot was added to or removed from a group (or a person blocked it)."""
    await ensure_chat(session, chat_id, chat_type, now)
    await session.execute(
        update(Chat).where(Chat.id == chat_id).values(active=active, updated_at=now)
    )


async def migrate_chat(session: AsyncSession, old: int, new: int, now: datetime) -> None:
    """A group became a supergroup with a new id: move every reference, never duplicate the chat.

    Each capability that stores chat ids adds its table to `CHAT_REFERENCES`.
    """
    row = await session.get(Chat, old)
    if row is not None and await session.get(Chat, new) is None:
        session.add(Chat(id=new, type="supergroup", language=row.language,
                         timezone=row.timezone, active=True, created_at=row.created_at,
                         updated_at=now))
        await session.flush()
    for table, column, live_only in CHAT_REFERENCES:
        stmt = update(table).where(getattr(table, column) == old).values({column: new})
        if live_only is not None:
            stmt = stmt.where(live_only)
        await session.execute(stmt)
    if row is not None:
        await session.delete(row)


async def move_chat(db: Database, old: int, new: int, now: datetime) -> None:
    """`migrate_chat` in its own transaction. Telegram announces a migration in both chats and
    the two updates may race (the second then finds the new row made): one retry settles it."""
    for attempt in (1, 2):
        try:
            async with db.transaction() as session:
                await migrate_chat(session, old, new, now)
            return
        except IntegrityError:
            if attempt == 2:
                raise


async def mark_unreachable(session: AsyncSession, chat_id: int, now: datetime) -> None:
    """Telegram refused a send for good (blocked, kicked, chat gone)."""
    await session.execute(
        update(Chat).where(Chat.id == chat_id).values(active=False, updated_at=now))
    if chat_id > 0:
        await session.execute(
            update(Person).where(Person.id == chat_id).values(reachable=False, updated_at=now))

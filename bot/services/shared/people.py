"""People the bot has met, and whether it may write to them first (rule P)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Person
from bot.db.upsert import insert_ignore


async def ensure_person(session: AsyncSession, user_id: int, language_code: str | None,
                        now: datetime) -> None:
    await session.execute(
        insert_ignore(session, Person).values(
            id=user_id, language_code=language_code, reachable=False, updated_at=now
        )
    )


async def record_start(session: AsyncSession, user_id: int, language_code: str | None,
                       now: datetime) -> bool:
    """The person opened the private chat (`/start`): reachable from now on.

    Returns whether they were unreachable before, so the caller can show what waited for them.
    """
    await ensure_person(session, user_id, language_code, now)
    was = (await session.execute(select(Person.reachable).where(Person.id == user_id))).scalar()
    await session.execute(
        update(Person)
        .where(Person.id == user_id)
        .values(reachable=True, started_at=now, language_code=language_code, updated_at=now)
    )
    return not was


async def set_reachable(session: AsyncSession, user_id: int, reachable: bool,
                        now: datetime) -> None:
    """A person blocked (False) or unblocked (True) the bot."""
    await ensure_person(session, user_id, None, now)
    await session.execute(
        update(Person).where(Person.id == user_id).values(reachable=reachable, updated_at=now)
    )


async def is_reachable(session: AsyncSession, user_id: int) -> bool:
    value = (await session.execute(select(Person.reachable).where(Person.id == user_id))).scalar()
    return bool(value)

"""The one draft store: what a composer (an alert's, an action's) edits step by step.

A draft is the capability's own row with `status == "draft"`, changed only by the person who
started it: every step of the guided flow (rule C) reads it with `of`, which is `None` for a sent
row or another person's draft, so a stale button or a forged press changes nothing. Polls and
registrations keep their drafts in the conversation row instead (they have no row until done).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

Row = TypeVar("Row")


class DraftStore(Generic[Row]):
    """Drafts of one model, owned through one column (`composed_by`, `created_by`)."""

    def __init__(self, model: type[Row], author: str) -> None:
        self.model: Any = model
        self.author = author

    async def add(self, session: AsyncSession, row: Row) -> Row:
        """Keep a new draft and give it its id (the flow's state names it)."""
        session.add(row)
        await session.flush()
        return row

    async def of(self, session: AsyncSession, row_id: int, user_id: int) -> Row | None:
        """A draft the person may still change (a sent row or someone else's draft is not)."""
        row = await session.get(self.model, row_id)
        if row is None or row.status != "draft" or getattr(row, self.author) != user_id:
            return None
        return row  # type: ignore[no-any-return]

    async def update(self, session: AsyncSession, row_id: int, user_id: int, now: datetime,
                     **values: object) -> Row | None:
        row = await self.of(session, row_id, user_id)
        if row is None:
            return None
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now  # type: ignore[attr-defined]
        return row

    async def discard(self, session: AsyncSession, row_id: int, user_id: int) -> bool:
        result = await session.execute(delete(self.model).where(
            self.model.id == row_id, self.model.status == "draft",
            getattr(self.model, self.author) == user_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def discard_all(self, session: AsyncSession, user_id: int) -> None:
        """The person's earlier drafts: one composer is open per person, so they were left."""
        await session.execute(delete(self.model).where(
            self.model.status == "draft", getattr(self.model, self.author) == user_id))

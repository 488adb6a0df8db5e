"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select

from bot.db.models import OutboxRow, SavedUpdate


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0,
                     what: str = "a condition") -> Any:
    """Re-run an async check (e.g. a database read) until it is truthy, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g}s for {what}; last value {value!r}")
        await asyncio.sleep(0.05)


async def swept(bot: Any, what: str = "a sweep after the clock moved") -> None:
    """Wait until everything due by now has run and its messages have left: a whole sweep that
    began after this call (the one running may have read the clock before it moved), then an
    empty outbox. Tests that check nothing happened before a moment wait for this, not a sleep."""
    start = bot.scheduler.sweeps

    async def after() -> bool:
        return bot.scheduler.sweeps >= start + 2

    await eventually(after, timeout=30, what=what)
    await eventually(lambda: outbox_empty(bot), timeout=30, what=f"{what}: the outbox sent")


async def outbox_empty(bot: Any) -> bool:
    """Whether no outbox row waits to be sent or is being sent (every copy has left)."""
    async with bot.db.sessions() as session:
        return (await session.execute(select(OutboxRow.id).where(
            OutboxRow.state.in_(("queued", "sending"))).limit(1))).scalar() is None


async def updates_handled(owner: Any, lane: int | None = None) -> bool:
    """Whether every saved update (of one lane: a person or a chat) is marked done. `owner` is
    anything with a `db` (a BotService, a test cluster): the replies of a handled update are sent,
    and the next update of its lane can be claimed by any instance."""
    where = [SavedUpdate.status != "done"]
    if lane is not None:
        where.append(SavedUpdate.lane == lane)
    async with owner.db.sessions() as session:
        pending = (await session.execute(
            select(func.count()).select_from(SavedUpdate).where(*where))).scalar_one()
    return pending == 0

"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select

from bot.db.models import SavedUpdate


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

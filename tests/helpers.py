"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


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

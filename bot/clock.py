"""The one clock every time decision reads (rule S).

In production it is the system clock. In tests and the sandbox it follows the emulator's
controllable clock, so that one command moves both and nothing waits: in-process through a
callable, in another process through the emulator's `GET /control/clock`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

log = logging.getLogger(__name__)


class Clock:
    """System time, in UTC. Subclasses change where 'now' comes from."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> float:
        return self.now().timestamp()

    @property
    def scale(self) -> float:
        """Clock seconds per wall second (1 for the system clock)."""
        return 1.0

    async def sleep_until(self, timestamp: float) -> None:
        """Sleep until this clock reads `timestamp` (a jump of the clock ends the wait early)."""
        while True:
            remaining = timestamp - self.timestamp()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining / self.scale, 1.0))

    async def sync(self) -> None:
        """Bring the clock up to date with its source; a no-op for the system clock."""

    async def aclose(self) -> None:
        """Release what the clock holds (an HTTP client); a no-op here."""


class CallableClock(Clock):
    """Reads epoch seconds from a callable, e.g. an in-process emulator's `clock.now`."""

    def __init__(self, source: Callable[[], float],
                 scale: Callable[[], float] = lambda: 1.0) -> None:
        self._source = source
        self._scale = scale

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._source(), UTC)

    def timestamp(self) -> float:
        return self._source()

    @property
    def scale(self) -> float:
        return self._scale()


class FollowingClock(Clock):
    """Follows a remote clock (the emulator's) by reading it now and then and extrapolating.

    Between reads it runs at the remote clock's scale from the last reading; `sync()` is called by
    the scheduler before each sweep, so a jump of the remote clock is seen within one sweep.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._client: httpx.AsyncClient | None = None
        self._remote = time.time()
        self._local = time.monotonic()
        self._scale = 1.0
        self._lock = asyncio.Lock()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def timestamp(self) -> float:
        return self._remote + (time.monotonic() - self._local) * self._scale

    @property
    def scale(self) -> float:
        return self._scale

    async def sync(self) -> None:
        async with self._lock:
            if self._client is None:
                self._client = httpx.AsyncClient(timeout=5)
            try:
                response = await self._client.get(self._url)
                response.raise_for_status()
                data = response.json()
            except (httpx.HTTPError, ValueError):
                log.warning("clock.sync_failed")
                return
            self._remote = float(data["now"])
            self._scale = float(data.get("scale", 1.0))
            self._local = time.monotonic()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def clock_from_settings(clock_url: str | None) -> Clock:
    return FollowingClock(clock_url) if clock_url else Clock()

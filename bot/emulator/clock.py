"""The emulator's controllable clock.

Everything time-dependent in the emulator (message dates, poll close dates, callback-query
lifetimes, rate-limit windows, the 48-hour delete window) reads this clock instead of
``time.time()``, so tests can jump hours ahead without sleeping and a bot in another process can
follow it through ``GET /control/clock``.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    """``now() = start + advanced offset + wall seconds elapsed x scale``.

    ``advance()`` calls the registered listeners synchronously, so whatever became due (poll
    closings) happens before ``advance()`` returns: tests never have to wait for it.
    """

    def __init__(self, start: float | None = None, scale: float = 1.0) -> None:
        self._start = time.time() if start is None else float(start)
        self._offset = 0.0
        self._mono0 = time.monotonic()
        self._scale = float(scale)
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        """Emulated epoch seconds."""
        return self._start + self._offset + (time.monotonic() - self._mono0) * self._scale

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` emulated seconds; returns the new ``now()``."""
        if seconds < 0:
            raise ValueError("the emulated clock only moves forward")
        self._offset += float(seconds)
        for listener in list(self._listeners):
            listener()
        return self.now()

    @property
    def scale(self) -> float:
        """Emulated seconds per wall second."""
        return self._scale

    @scale.setter
    def scale(self, value: float) -> None:
        if value < 0:
            raise ValueError("clock scale must be >= 0")
        # Rebase so that now() stays continuous across the change.
        mono = time.monotonic()
        self._offset += (mono - self._mono0) * self._scale
        self._mono0 = mono
        self._scale = float(value)
        for listener in list(self._listeners):
            listener()

    def wall_seconds_until(self, when: float) -> float:
        """Wall seconds until the emulated time ``when`` (inf when the clock is stopped)."""
        delta = when - self.now()
        if delta <= 0:
            return 0.0
        if self._scale <= 0:
            return float("inf")
        return delta / self._scale

    def on_change(self, listener: Callable[[], None]) -> None:
        """Register a callback run after every ``advance()`` or scale change."""
        self._listeners.append(listener)

    def as_dict(self) -> dict[str, float]:
        return {"now": self.now(), "scale": self._scale}

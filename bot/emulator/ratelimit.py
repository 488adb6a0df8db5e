"""The pinned rate-limit model (docs/DESIGN.md, "Configuration and Telegram", rule D).

* overall: at most 30 sends in any sliding one-second window (1,000 when the send carries
  ``allow_paid_broadcast``);
* per private chat: a token bucket of 5 refilling at 1 a second (bursts of 5 pass, then 1/s);
* per group or supergroup: at most 20 sends in any 60 seconds.

All windows use the emulated clock. ``check`` is side-effect free; ``record`` applies a send, so a
refused send changes nothing.

``per_chat=False`` keeps the overall window and drops the per-chat and per-group ones: the test
suite's flows, where one person's conversation of thirty replies would otherwise cost thirty
seconds of real time for nothing they check (the bot's pacer is told the same, see
``bot.delivery.pacer``); the tests of pacing itself keep Telegram's limits.
"""

from __future__ import annotations

import math
from collections import deque

OVERALL_LIMIT = 30
PAID_LIMIT = 1000
OVERALL_WINDOW = 1.0
PRIVATE_BURST = 5.0
PRIVATE_RATE = 1.0
GROUP_LIMIT = 20
GROUP_WINDOW = 60.0


def _whole(seconds: float) -> int:
    """Telegram's retry_after: whole seconds, at least 1."""
    return max(1, math.ceil(seconds - 1e-9))


class RateLimiter:
    """Counts sends and answers how long a refused one must wait."""

    def __init__(self, per_chat: bool = True) -> None:
        self.per_chat = per_chat
        self._overall: deque[float] = deque()
        self._buckets: dict[int, tuple[float, float]] = {}  # chat -> (tokens, at)
        self._groups: dict[int, deque[float]] = {}

    def reset(self) -> None:
        self._overall.clear()
        self._buckets.clear()
        self._groups.clear()

    def check(self, now: float, chat_id: int, private: bool, paid: bool = False) -> int | None:
        """``None`` when the send may pass, else ``retry_after`` in whole seconds."""
        waits: list[float] = []
        overall = self._overall
        while overall and overall[0] <= now - OVERALL_WINDOW:
            overall.popleft()
        limit = PAID_LIMIT if paid else OVERALL_LIMIT
        if len(overall) >= limit:
            waits.append(overall[len(overall) - limit] + OVERALL_WINDOW - now)
        if self.per_chat:
            wait = self._chat_wait(now, chat_id, private)
            if wait is not None:
                waits.append(wait)
        if not waits:
            return None
        return _whole(max(waits))

    def _chat_wait(self, now: float, chat_id: int, private: bool) -> float | None:
        if private:
            tokens = self._tokens(now, chat_id)
            return (1.0 - tokens) / PRIVATE_RATE if tokens < 1.0 else None
        window = self._groups.get(chat_id)
        if window is None:
            return None
        while window and window[0] <= now - GROUP_WINDOW:
            window.popleft()
        if len(window) >= GROUP_LIMIT:
            return window[len(window) - GROUP_LIMIT] + GROUP_WINDOW - now
        return None

    def record(self, now: float, chat_id: int, private: bool) -> None:
        self._overall.append(now)
        if not self.per_chat:
            return
        if private:
            self._buckets[chat_id] = (self._tokens(now, chat_id) - 1.0, now)
        else:
            self._groups.setdefault(chat_id, deque()).append(now)

    def _tokens(self, now: float, chat_id: int) -> float:
        state = self._buckets.get(chat_id)
        if state is None:
            return PRIVATE_BURST
        tokens, at = state
        return min(PRIVATE_BURST, tokens + max(0.0, now - at) * PRIVATE_RATE)

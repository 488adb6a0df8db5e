"""One budget for every request that sends: Telegram's limits, kept by the bot itself.

Every send (replies, fan-out, edits) asks the pacer for a slot, so the fan-out and the replies to
people never add up past Telegram's limits and neither throttles the other twice. This replaces
PTB's AIORateLimiter (whose overall limiter allows a burst of 30 and whose 429 handling would wait
a second time behind ours).

- Overall: evenly spaced slots at `rate` a second (SEND_RATE, default 29), and, on the times
  requests really leave (a busy event loop can make waiters wake together), never more than
  `rate` in any one-second window: Telegram allows 30.
- Per private chat: a token bucket of 3 refilled at 1 a second (Telegram lets short bursts pass).
- Per group: the same bucket, and at most 20 in any 60 seconds.
- A 429 pauses everything for `retry_after`: Telegram does not say which limit was hit.

Time is the bot's clock (which follows the emulator's in tests, scale included), so limits cost
what they cost on the emulator's clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from bot.clock import Clock

PRIVATE_BURST = 3
CHAT_RATE = 1.0
GROUP_WINDOW_S = 60.0
GROUP_MAX = 20
MAX_WINDOWED_RATE = 1000  # above this (paid broadcasts, benchmarks) only the spacing applies
# Slack for the time a request takes to reach Telegram: jitter of a few ms made 429s (bench).
WINDOW_MARGIN_S = 0.015


@dataclass
class _ChatBudget:
    tokens: float = PRIVATE_BURST
    at: float = 0.0
    recent: deque[float] = field(default_factory=deque)


class Pacer:
    def __init__(self, clock: Clock, rate: float) -> None:
        self.clock = clock
        self.rate = rate
        self._next = 0.0
        self._paused_until = 0.0
        self._chats: dict[int, _ChatBudget] = {}
        self._issued: deque[float] = deque()
        self.waited_s = 0.0

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    @property
    def per_window(self) -> int:
        return max(1, int(self.rate)) if self.rate <= MAX_WINDOWED_RATE else 1 << 30

    def _reserve_chat(self, chat_id: int, now: float) -> float:
        """Reserve this chat's next send; return the clock time from which it may go."""
        budget = self._chats.get(chat_id)
        if budget is None:
            budget = self._chats[chat_id] = _ChatBudget(at=now)
        budget.tokens = min(PRIVATE_BURST, budget.tokens + (now - budget.at) * CHAT_RATE)
        budget.at = now
        ready = now
        if budget.tokens < 1:
            ready = now + (1 - budget.tokens) / CHAT_RATE
        budget.tokens -= 1
        if chat_id < 0:  # groups, supergroups (and channels)
            while budget.recent and budget.recent[0] <= now - GROUP_WINDOW_S:
                budget.recent.popleft()
            if len(budget.recent) >= GROUP_MAX:
                ready = max(ready, budget.recent[-GROUP_MAX] + GROUP_WINDOW_S + 0.05)
            budget.recent.append(ready)
        if len(self._chats) > 50_000:
            self._forget_idle(now)
        return ready

    def _forget_idle(self, now: float) -> None:
        for chat_id in [c for c, b in self._chats.items() if b.at < now - GROUP_WINDOW_S]:
            del self._chats[chat_id]

    async def acquire(self, chat_id: int | None) -> None:
        """Wait for a slot to send to `chat_id` (None: a send that names no chat)."""
        now = self.clock.timestamp()
        ready = self._reserve_chat(chat_id, now) if chat_id is not None else now
        if ready > now:
            await self.clock.sleep_until(ready)
        while True:
            now = self.clock.timestamp()
            if now < self._paused_until:
                await self.clock.sleep_until(self._paused_until)
                continue
            slot = max(now, self._next)
            self._next = slot + self.interval
            if slot > now:
                self.waited_s += slot - now
                await self.clock.sleep_until(slot)
            while True:  # the window on real leaving times
                now = self.clock.timestamp()
                window = self._issued
                while window and window[0] <= now - 1.0:
                    window.popleft()
                if len(window) < self.per_window:
                    break
                await self.clock.sleep_until(window[0] + 1.0 + WINDOW_MARGIN_S)
            if self.clock.timestamp() >= self._paused_until:
                if self.rate <= MAX_WINDOWED_RATE:
                    self._issued.append(self.clock.timestamp())
                return

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: nothing is sent until `retry_after` has passed."""
        until = self.clock.timestamp() + seconds
        self._paused_until = max(self._paused_until, until)
        self._next = max(self._next, until)

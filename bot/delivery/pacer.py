"""One budget for every request that sends: Telegram's limits, kept by the bot itself.

Every send (replies, fan-out, edits) asks the pacer for a slot, so the fan-out and the replies to
people never add up past Telegram's limits and neither throttles the other twice. This replaces
PTB's AIORateLimiter (whose overall limiter allows a burst of 30 and whose 429 handling would wait
a second time behind ours).

- Overall: evenly spaced slots at `rate` a second (SEND_RATE, default 29), on a fixed grid: a
  send that leaves late (a busy event loop) does not push the ones after it.
- And never more than Telegram's 30 in any one-second window of *arrivals*. A request reaches
  Telegram at some moment between leaving (the pacer's return) and its answer, so a send may
  leave only while fewer than 30 others are in flight or were answered within the last second:
  then no second of arrivals can hold 31, whatever the network or a stalled event loop does to
  the leaving times (loop stalls make waiters wake together). With answers in a few ms this never
  delays the 29-a-second grid; it only bites when answers come late or waiters bunch up.
- Per private chat: a token bucket of 3 refilled at 1 a second (Telegram lets short bursts pass).
- Per group: the same bucket, and at most 20 in any 60 seconds.
- A 429 pauses everything for `retry_after`: Telegram does not say which limit was hit.
- `chat_limits=False` drops the per-chat and per-group budgets, for an emulator told to drop
  them too (the test suite's conversations; the pacing tests keep them).

Time runs at the bot clock's scale (which follows the emulator's in tests), so limits cost what
they cost on the emulator's clock. The grid and the arrivals window are kept on a monotonic clock
run at that scale: a re-synchronisation of the bot's clock (a jump of a few ms, or more when its
answer was late) can neither make a second look shorter than it was nor push every slot after it
later (the grid would never win that time back). Per-chat budgets and 429 pauses use the bot's
clock, so a test that moves the emulator's clock moves them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field

from bot.clock import Clock

PRIVATE_BURST = 3
CHAT_RATE = 1.0
GROUP_WINDOW_S = 60.0
GROUP_MAX = 20
TELEGRAM_PER_SECOND = 30  # Telegram's overall limit: sends in any one-second window
MAX_WINDOWED_RATE = 1000  # above this (paid broadcasts, benchmarks) only the spacing applies


@dataclass
class _ChatBudget:
    tokens: float = PRIVATE_BURST
    at: float = 0.0
    recent: deque[float] = field(default_factory=deque)


class Pacer:
    def __init__(self, clock: Clock, rate: float, *, chat_limits: bool = True) -> None:
        self.clock = clock
        self.rate = rate
        self.chat_limits = chat_limits
        self._next = 0.0
        self._paused_until = 0.0
        self._chats: dict[int, _ChatBudget] = {}
        # The arrivals window: sends in flight, and the (monotonic) times of recent answers.
        self.in_flight = 0
        self._answered: deque[float] = deque()
        self._released = asyncio.Event()
        self._mono_at = time.monotonic()
        self._mono = 0.0
        self.waited_s = 0.0
        self.idle_s = 0.0  # grid time no send asked for (idle, or the senders were late)
        self.window_waits = 0

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    @property
    def windowed(self) -> bool:
        return self.rate <= MAX_WINDOWED_RATE

    def _local(self) -> float:
        """Seconds on a monotonic clock run at the bot clock's scale (never jumps)."""
        now = time.monotonic()
        self._mono += (now - self._mono_at) * self.clock.scale
        self._mono_at = now
        return self._mono

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

    def _window_wait(self) -> float | None:
        """None if a send may leave now (arrivals window), else the local seconds to wait at
        most (a release may come sooner)."""
        now = self._local()
        answered = self._answered
        while answered and answered[0] <= now - 1.0:
            answered.popleft()
        over = self.in_flight + len(answered) - (TELEGRAM_PER_SECOND - 1)
        if over <= 0:
            return None
        if over <= len(answered):  # the oldest answers leave the window first
            return answered[over - 1] + 1.0 - now
        return 1.0  # sends in flight alone fill it: wait for an answer

    async def acquire(self, chat_id: int | None) -> None:
        """Wait for a slot to send to `chat_id` (None: a send that names no chat).

        Every acquire must be followed by one `release()` once the request's answer (or error)
        is in, so that the arrivals window knows the request can no longer reach Telegram.
        """
        now = self.clock.timestamp()
        ready = (self._reserve_chat(chat_id, now)
                 if chat_id is not None and self.chat_limits else now)
        if ready > now:
            await self.clock.sleep_until(ready)
        while True:
            if self.clock.timestamp() < self._paused_until:
                await self.clock.sleep_until(self._paused_until)
                continue
            local = self._local()
            if self._next and local > self._next:  # nobody was waiting for the slot at _next
                self.idle_s += local - self._next
            slot = max(local, self._next)
            self._next = slot + self.interval
            if slot > local:
                self.waited_s += slot - local
                await asyncio.sleep((slot - local) / self.clock.scale)
            if self.windowed:
                while (wait := self._window_wait()) is not None:
                    self.window_waits += 1
                    self._released.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._released.wait(),
                                               timeout=max(wait, 0.0005) / self.clock.scale)
            if self.clock.timestamp() >= self._paused_until:
                self.in_flight += 1
                return

    def release(self) -> None:
        """The answer of an acquired send is in (or it failed): it counts in the arrivals
        window for one more second, then not at all."""
        self.in_flight -= 1
        if self.windowed:
            self._answered.append(self._local())
        self._released.set()

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: nothing is sent until `retry_after` has passed."""
        self._paused_until = max(self._paused_until, self.clock.timestamp() + seconds)
        self._next = max(self._next, self._local() + seconds)

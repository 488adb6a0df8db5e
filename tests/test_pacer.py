"""The pacer's promise (bot/delivery/pacer.py), without the emulator: sends spaced at SEND_RATE,
and never more than Telegram's 30 arriving in any one second, whatever the network does between
a send's leaving and its answer (here: random delays, some of them long, as a stalled loop)."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from bot.clock import CallableClock
from bot.delivery.pacer import TELEGRAM_PER_SECOND, Pacer

pytestmark = pytest.mark.serial  # it measures real seconds of sending

SCALE = 20.0  # clock seconds per wall second: 300 sends at 29 a second take about half a second


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_no_second_of_arrivals_holds_more_than_30_and_the_pace_is_send_rate() -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    print(f"seed={seed}")
    t0 = time.monotonic()
    clock = CallableClock(lambda: 1_000.0 + (time.monotonic() - t0) * SCALE, lambda: SCALE)
    pacer = Pacer(clock, 29.0)
    arrivals: list[float] = []
    leaves: list[float] = []

    async def send(number: int) -> None:
        await pacer.acquire(-number)  # a different group each: only the overall limits count
        try:
            leaves.append(clock.timestamp())
            # the way there and back: mostly quick, now and then very late (a stalled loop)
            latency = rng.choice((0.002, 0.01, 0.03, 0.3, 0.6)) if rng.random() < 0.2 else 0.003
            there = latency * rng.random()
            await asyncio.sleep(there / SCALE)
            arrivals.append(clock.timestamp())
            await asyncio.sleep((latency - there) / SCALE)
        finally:
            pacer.release()

    await asyncio.gather(*(send(n) for n in range(1, 301)))
    assert pacer.in_flight == 0
    assert most_in_one_second(arrivals) <= TELEGRAM_PER_SECOND
    span = max(leaves) - min(leaves)
    assert span >= 299 / 29.0 - 0.05  # never faster than SEND_RATE on average
    assert span <= 299 / 29.0 * 1.15  # and late answers cost little

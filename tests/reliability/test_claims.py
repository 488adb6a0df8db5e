"""Claims between instances: four schedulers (four instances' sweepers, each with its own engine)
sweep the same 400 due rows at once. Each row runs exactly once, and on PostgreSQL they claim
side by side (`FOR UPDATE SKIP LOCKED`: none waits for another's batch, none takes it)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from bot.clock import CallableClock
from bot.db.engine import Database
from bot.db.migrate import upgrade_database
from bot.scheduler import Due, Scheduler, TaskKind, schedule
from tests.conftest import PG_URL

ROWS = 400
SWEEPERS = 4


async def test_concurrent_sweepers_run_each_due_row_once(database_url: str, seed: int,
                                                         report) -> None:
    first = Database(database_url)
    await upgrade_database(first)
    engines = [first, *(Database(database_url) for _ in range(SWEEPERS - 1))]
    clock = CallableClock(time.time)
    runs: Counter[int] = Counter()
    by: Counter[str] = Counter()

    def kind(name: str) -> TaskKind:
        async def run(due: Due) -> None:
            runs[due.id] += 1
            by[name] += 1
            await asyncio.sleep(0.002)  # a run takes a moment: the other sweeper claims meanwhile

        return TaskKind("reliability.count", run)

    sweepers = []
    for number, db in enumerate(engines):
        name = "abcdefgh"[number]
        sweeper = Scheduler(db, clock, f"instance-{name}")
        sweeper.register(kind(name))
        sweepers.append(sweeper)
    try:
        async with first.transaction() as session:
            for number in range(ROWS):
                await schedule(session, "reliability.count", clock.now(), {"n": number})
        for _ in range(3):  # the last rounds find nothing left
            await asyncio.gather(*(s.sweep() for s in sweepers))
    finally:
        for db in engines:
            await db.dispose()
    report(rows=ROWS, runs=sum(runs.values()), by_instance=dict(by),
           twice=sum(1 for n in runs.values() if n > 1))
    assert len(runs) == ROWS
    assert set(runs.values()) == {1}
    if PG_URL:
        assert len(by) > 1  # SKIP LOCKED: they claimed batches side by side

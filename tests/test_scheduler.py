"""Scheduled rows (rule S): they run when the emulator's clock says so, once, across restarts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.clock import CallableClock
from bot.db.engine import Database
from bot.db.migrate import upgrade_database
from bot.db.models import ScheduledTask
from bot.emulator import Emulator
from bot.scheduler import Due, Scheduler, TaskKind, schedule
from tests.helpers import eventually, swept

KIND = "test.say"


def say_kind(rt) -> TaskKind:
    """A test task that writes in a chat, useful until an hour after its due time."""

    async def run(due: Due) -> None:
        await rt.bot.send_message(due.payload["chat_id"], due.payload["text"])

    return TaskKind(KIND, run, still_useful=lambda due: due.lateness < timedelta(hours=1))


async def add_task(service, chat_id: int, text: str, in_seconds: float, key: str | None = None):
    async with service.db.transaction() as session:
        await schedule(session, KIND, service.clock.now() + timedelta(seconds=in_seconds),
                       {"chat_id": chat_id, "text": text}, dedupe_key=key)


async def tasks(service) -> list[ScheduledTask]:
    async with service.db.sessions() as session:
        rows = (await session.execute(select(ScheduledTask).where(ScheduledTask.kind == KIND)))
        return list(rows.scalars().all())


def said(emu: Emulator, chat, text: str) -> int:
    return sum(1 for m in emu.bot_messages(chat) if m.text == text)


async def test_a_row_runs_when_the_clock_reaches_it(emu: Emulator, make_bot) -> None:
    ana = emu.add_user("Ana")
    emu.send(ana, "hola")  # opens the private chat
    service = await make_bot(extra_kinds=[say_kind])
    await add_task(service, ana.id, "reminder", in_seconds=7200)
    await swept(service)
    assert said(emu, emu.private_chat(ana), "reminder") == 0
    emu.clock.advance(7200)
    await emu.wait_for(lambda: said(emu, emu.private_chat(ana), "reminder") == 1)
    async def finished():
        return [(r.status, r.attempts) for r in await tasks(service) if r.status != "running"]

    assert await eventually(finished, what="the row finished") == [("done", 1)]


async def test_scheduling_twice_with_one_key_adds_one_row(emu: Emulator, make_bot) -> None:
    service = await make_bot(extra_kinds=[say_kind])
    for _ in range(3):
        await add_task(service, 1, "x", in_seconds=600, key="same-thing")
    assert len(await tasks(service)) == 1


async def test_due_during_downtime_runs_once_after_restart(emu: Emulator, make_bot) -> None:
    ana = emu.add_user("Ana")
    emu.send(ana, "hola")
    first = await make_bot(extra_kinds=[say_kind])
    await add_task(first, ana.id, "late but useful", in_seconds=600)
    await add_task(first, ana.id, "too late", in_seconds=60)
    await first.stop()
    emu.clock.advance(3600 + 120)  # the first is 52 min late (useful), the second 61 (not)
    second = await make_bot(extra_kinds=[say_kind])
    await emu.wait_for(lambda: said(emu, emu.private_chat(ana), "late but useful") == 1)
    await swept(second)  # a few more sweeps: nothing runs twice
    await second.stop()
    third = await make_bot(extra_kinds=[say_kind])
    await swept(third)
    assert said(emu, emu.private_chat(ana), "late but useful") == 1
    assert said(emu, emu.private_chat(ana), "too late") == 0
    rows = {r.payload["text"]: r for r in await tasks(third)}
    assert (rows["late but useful"].status, rows["late but useful"].attempts) == ("done", 1)
    assert rows["too late"].status == "missed"


async def test_two_sweepers_run_each_row_once(emu: Emulator, database_url: str) -> None:
    db = Database(database_url)
    await upgrade_database(db)
    clock = CallableClock(emu.clock.now)
    runs: list[int] = []

    async def run(due: Due) -> None:
        runs.append(due.payload["n"])
        await asyncio.sleep(0.001)

    schedulers = [Scheduler(db, clock, f"instance-{i}") for i in range(2)]
    for scheduler in schedulers:
        scheduler.register(TaskKind("test.count", run))
    async with db.transaction() as session:
        for n in range(120):
            await schedule(session, "test.count", clock.now() - timedelta(seconds=1), {"n": n})
    await asyncio.gather(*(s.sweep() for s in schedulers))
    await asyncio.gather(*(s.sweep() for s in schedulers))
    await db.dispose()
    assert sorted(runs) == list(range(120))

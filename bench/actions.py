"""Actions benchmark: N future reminders (default 1,000) made through the service, a restart,
and the sweeper running them all once the clock reaches them.

In-process emulator (rate limits on) and ``BotService`` on a fresh SQLite file (or
``--database-url``). One organisation with a member group; ``--reached`` of the actions reach it
(their reminders are real messages), the rest reach nobody (a region no member works in), so the
figure is the scheduler's and the outbox's, not Telegram's pace. Printed: making the actions
(announce transaction with rule T, targets, fan-out and reminder rows), the restart, and the
time from the clock reaching the last reminder to every row done.

    .venv/bin/python bench/actions.py
    .venv/bin/python bench/actions.py --database-url postgresql+asyncpg://postgres@host/postgres
    (a database of its own is made on that server and dropped after)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import BotService  # noqa: E402
from bot.clock import CallableClock  # noqa: E402
from bot.db.models import ScheduledTask  # noqa: E402
from bot.emulator import Emulator  # noqa: E402
from bot.services.actions import actions  # noqa: E402
from handlers.actions.copies import announcement_copy  # noqa: E402
from tests.action_helpers import add_org, local  # noqa: E402
from tests.conftest import TOKEN, make_settings  # noqa: E402

MX = "America/Mexico_City"


async def pending(service: BotService) -> int:
    async with service.db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(ScheduledTask).where(
            ScheduledTask.kind == actions.REMIND_KIND,
            ScheduledTask.status != "done"))).scalar_one())


@asynccontextmanager
async def fresh_database(server_url: str | None, folder: str) -> AsyncIterator[str]:
    """A SQLite file, or a database of its own on the PostgreSQL server (dropped after)."""
    if not server_url:
        yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"cbbench_{uuid.uuid4().hex[:12]}"
    dsn = server_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        admin = await asyncpg.connect(dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main(count: int, reached: int, database_url: str | None) -> None:
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # a long sweep skips wake-ups
    emu = Emulator(token=TOKEN, bot_username="coalition_bench_bot")
    await emu.start()
    with tempfile.TemporaryDirectory() as folder:
        async with fresh_database(database_url, folder) as url:

            async def start() -> BotService:
                clock = CallableClock(emu.clock.now, scale=lambda: emu.clock.scale)
                service = BotService(make_settings(emu, url, log_level="WARNING"), clock=clock)
                await service.start()
                return service

            bot = await start()
            await add_org(emu, bot, "Red Jalisco")
            base = local("2027-01-20 18:00", MX)
            began = time.perf_counter()
            async with bot.db.transaction() as session:
                for i in range(count):
                    await actions.create(session, bot.clock.now(), announcement_copy(MX), "es",
                                         title=f"Acción {i}", starts_at=base + timedelta(seconds=i),
                                         timezone=MX, offsets=[60],
                                         regions=[] if i < reached else ["GT"])
            made = time.perf_counter() - began
            await bot.stop()
            began = time.perf_counter()
            bot = await start()
            restarted = time.perf_counter() - began
            emu.clock.advance(base.timestamp() - 3600 + count + 5 - emu.clock.now())
            began = time.perf_counter()
            while await pending(bot):  # noqa: ASYNC110 - polling the database is the point
                await asyncio.sleep(0.05)
            ran = time.perf_counter() - began
            await bot.stop()
    await emu.stop()
    print(f"{platform.python_implementation()} {platform.python_version()}, "
          f"{'PostgreSQL' if database_url else 'SQLite'}")
    print(f"{count} actions made and announced: {made:.2f} s ({made / count * 1000:.1f} ms each)")
    print(f"restart with {count} future reminders: {restarted:.2f} s")
    print(f"{count} reminders due at once, all run: {ran:.2f} s ({count / ran:.0f} a second); "
          f"{reached} of them sent to a group")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--reached", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.reached, args.database_url))

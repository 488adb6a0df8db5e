"""Polls benchmark (issue 9): 5,000 organisations voting within 60 seconds, on SQLite.

The real bot (``BotService``, a fresh SQLite file) runs against an in-process emulator with its
rate limits off (this measures the bot's vote intake and counting, not Telegram's pacing; the
pacer rate is raised to match). 5,000 organisations, each reached in its contact's private chat,
get a single-choice poll through the outbox; every copy is traced (its Telegram poll id kept).
Then each contact votes once, spread evenly over 60 seconds (about 83 votes a second), and the
benchmark waits until every vote is recorded. Printed: how long after the last vote the last
one was recorded, whether every vote counted, the time to tally the 5,000 votes (target under
1 s) and to draw the chart (target under 2 s).

    .venv/bin/python bench/polls.py                  # 5,000 organisations, 60 s of voting
    .venv/bin/python bench/polls.py --orgs 500 --seconds 10    # quick
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import BotService  # noqa: E402
from bot.clock import CallableClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.db.models import Contact, Organisation, Person, PollCopy, PollVote  # noqa: E402
from bot.delivery import outbox  # noqa: E402
from bot.emulator import Emulator  # noqa: E402
from bot.scheduler import schedule  # noqa: E402
from bot.services.polls import polls, results  # noqa: E402
from handlers.polls import chart as poll_chart  # noqa: E402
from handlers.polls.polls import copy_message  # noqa: E402

TOKEN = "123456789:AAEmulatorTestTokenForCoalitionBot01"
COORDINATOR = 42


async def wait(check, what: str, limit_s: float) -> float:
    start = time.perf_counter()
    while not await check():
        if time.perf_counter() - start > limit_s:
            raise TimeoutError(what)
        await asyncio.sleep(0.2)
    return time.perf_counter() - start


async def run(n_orgs: int, seconds: float) -> None:
    emu = Emulator(token=TOKEN, rate_limits=False, strict=False)
    await emu.start()
    folder = tempfile.mkdtemp(prefix="polls-bench-")
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN,  # type: ignore[call-arg]
                        telegram_api_base_url=emu.base_url,
                        database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
                        coordinator_ids=(COORDINATOR,), default_language="es",
                        timezone="America/Mexico_City", log_level="WARNING",
                        sweep_interval=0.5, poll_timeout=1, clock_url=None)
    clock = CallableClock(emu.clock.now, scale=lambda: emu.clock.scale)
    service = BotService(settings, clock=clock, send_concurrency=16)
    service.pacer.rate = 100_000  # the emulator's limits are off: measure the bot, not pacing
    await service.start()
    try:
        users = [emu.world.add_user(f"p{i}", language_code="es") for i in range(n_orgs)]
        for user in users:
            emu.world.private_chat(user).started = True
        now = service.clock.now()
        async with service.db.transaction() as session:
            for start in range(0, n_orgs, 1000):
                chunk = users[start:start + 1000]
                await session.execute(insert(Person), [
                    {"id": u.id, "language_code": "es", "reachable": True, "started_at": now,
                     "updated_at": now} for u in chunk])
                await session.execute(insert(Organisation), [
                    {"name": f"Org {start + i}", "kind": "cso",
                     "tier": "ally" if (start + i) % 10 == 0 else "member", "scope": "state",
                     "areas": [("MX-JAL", "MX-OAX", "MX-CHP")[(start + i) % 3]],
                     "topics": ["tax"], "capacities": [], "language": "es",
                     "status": "active", "created_at": now, "updated_at": now}
                    for i in range(len(chunk))])
            orgs = (await session.execute(select(Organisation.id).order_by(Organisation.id)))
            org_ids = [int(i) for i in orgs.scalars()]
            await session.execute(insert(Contact), [
                {"user_id": u.id, "org_id": o, "added_at": now}
                for u, o in zip(users, org_ids, strict=True)])
        draft = polls.Draft(question="¿Qué prioridad primero?",
                            options=["Ley de OSC", "Reforma fiscal", "Lavado de dinero"],
                            kind="single", closes_at=(now + timedelta(days=2)).isoformat())
        started = time.perf_counter()
        async with service.db.transaction() as session:
            poll, copies = await polls.create(session, draft, COORDINATOR, now)
            messages = [copy_message("coalition_test_bot", poll, c, r, settings, now)
                        for c, r in copies]
            fanout = await outbox.enqueue(session, f"poll:{poll.id}", "poll", messages, now)
            await polls.set_fanout(session, poll.id, fanout)
            await schedule(session, polls.TRACE_KIND, now, {"poll": poll.id})
            poll_id = poll.id
        service.sender.wake()

        async def all_traced() -> bool:
            async with service.db.sessions() as session:
                done = (await session.execute(select(func.count()).select_from(PollCopy).where(
                    PollCopy.poll_id == poll_id, PollCopy.tg_poll_id.is_not(None)))).scalar_one()
            return done >= n_orgs

        await wait(all_traced, "every copy traced", 900)
        fan_s = time.perf_counter() - started
        print(f"fan-out and tracing of {n_orgs} copies: {fan_s:.1f} s")

        messages_of = {}
        for user in users:
            chat = emu.world.private_chat(user)
            messages_of[user.id] = next(m for m in emu.bot_messages(chat) if m.poll is not None)
        vote_start = time.perf_counter()
        for i, user in enumerate(users):
            due = vote_start + i * seconds / n_orgs
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            emu.vote(user, messages_of[user.id], [i % 3])
        last_vote = time.perf_counter()

        async def all_counted() -> bool:
            async with service.db.sessions() as session:
                done = (await session.execute(select(func.count()).select_from(PollVote).where(
                    PollVote.poll_id == poll_id, PollVote.standing == "org"))).scalar_one()
            return done >= n_orgs

        lag = await wait(all_counted, "every vote recorded", 600)
        print(f"{n_orgs} votes sent over {last_vote - vote_start:.1f} s "
              f"({n_orgs / (last_vote - vote_start):.0f}/s); the last recorded "
              f"{lag:.2f} s after the last vote")

        async with service.db.sessions() as session:
            poll = await polls.get(session, poll_id)
            assert poll is not None
            t0 = time.perf_counter()
            result = await results.tally(session, poll)
            tally_s = time.perf_counter() - t0
        expected = [0, 0, 0]
        members = [0, 0, 0]
        for i in range(n_orgs):
            expected[i % 3] += 1
            if i % 10 != 0:
                members[i % 3] += 1
        counted = result.members == members and result.voted_orgs == n_orgs
        print(f"every vote counted: {counted} (members {result.members}, allies "
              f"{result.allies}, turnout {result.voted_orgs}/{result.reached_orgs})")
        print(f"tally of {n_orgs} votes: {tally_s:.3f} s (target < 1 s)")
        t0 = time.perf_counter()
        chart = poll_chart.draw(poll.question, result.options, result.headline, "Votos")
        chart_s = time.perf_counter() - t0
        print(f"chart: {chart_s:.3f} s (target < 2 s), {len(chart.png)} bytes")
        if not counted:
            raise SystemExit(1)
    finally:
        await service.stop()
        await emu.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "sweeper skipped" while busy
    asyncio.run(run(args.orgs, args.seconds))


if __name__ == "__main__":
    main()

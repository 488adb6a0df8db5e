"""50 concurrent writers on one SQLite file for 60 seconds, beside the running bot: no
"database is locked", anywhere (the writers' errors, every captured log line).

- 20 voters, each with its own engine (its own connection, as a separate process would have):
  votes through `polls.record` (the upsert a `poll_answer` makes);
- 10 announcers, each with its own engine: small fan-outs through `outbox.enqueue`, which the
  bot's sender then moves through `sending` to `sent` (outbox states);
- 20 people writing to the bot: commands (/language, /timezone Europe/Madrid, /help) and the
  answers of a guided flow (/timezone, "Otra…", a typed zone), each saved, claimed and handled.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import pytest

from bot.db.engine import Database
from bot.delivery import outbox
from bot.emulator import DriverError, Emulator
from bot.services.polls import polls
from tests.conftest import PG_URL
from tests.helpers import eventually
from tests.org_helpers import started
from tests.reliability.support import table_counts

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's single writer is what is tested")

SECONDS = 60.0
VOTERS, ANNOUNCERS, PEOPLE = 20, 10, 20
LOCKED = "database is locked"


# 50 writers on one SQLite file: a press may wait past its query's lifetime (issue 28 is about
# answering presses under load); the report counts them
@pytest.mark.late_answers
async def test_50_concurrent_writers_for_60_seconds(emu: Emulator, make_bot, database_url: str,
                                                    seed: int, report, debug_logging) -> None:
    service = await make_bot()
    people = [emu.add_user(f"w{i}", language_code="es") for i in range(PEOPLE)]
    await started(emu, *people)
    mark = len(debug_logging.lines)
    done: Counter[str] = Counter()
    errors: list[str] = []
    latencies: list[float] = []
    deadline = time.monotonic() + SECONDS

    async def voter(number: int) -> None:
        rng = random.Random(seed + number)
        db = Database(database_url)
        try:
            seq = 0
            while time.monotonic() < deadline:
                seq += 1
                started_at = time.monotonic()
                try:
                    async with db.transaction() as session:
                        await polls.record(session, f"ballot{rng.randrange(5)}",
                                           10_000 + number * 1000 + rng.randrange(50),
                                           [rng.randrange(3)], seq, service.clock.now())
                    done["votes"] += 1
                    latencies.append(time.monotonic() - started_at)
                except Exception as exc:  # counted: the test asserts there are none
                    errors.append(f"vote: {exc}")
                await asyncio.sleep(rng.random() * 0.05)
        finally:
            await db.dispose()

    async def announcer(number: int) -> None:
        rng = random.Random(seed + 100 + number)
        db = Database(database_url)
        try:
            count = 0
            while time.monotonic() < deadline:
                count += 1
                chats = rng.sample([p.id for p in people], 3)
                started_at = time.monotonic()
                try:
                    async with db.transaction() as session:
                        await outbox.enqueue(session, f"w{number}:{count}", "test", [
                            outbox.Outgoing(chat_id=c, text=f"note {number}.{count} #w")
                            for c in chats], service.clock.now())
                    done["fanouts"] += 1
                    latencies.append(time.monotonic() - started_at)
                except Exception as exc:
                    errors.append(f"enqueue: {exc}")
                service.sender.wake()
                await asyncio.sleep(0.5 + rng.random())
        finally:
            await db.dispose()

    async def person(number: int) -> None:
        rng = random.Random(seed + 200 + number)
        user = people[number]
        while time.monotonic() < deadline:
            choice = rng.randrange(4)
            try:
                if choice == 0:
                    menu_sent = emu.send(user, "/timezone")
                    menu = await emu.wait_for_bot_message(emu.private_chat(user),
                                                          after=menu_sent, timeout=60)
                    if any(b.text == "Otra…" for row in menu.buttons for b in row):
                        emu.press(user, menu, label="Otra…")
                        await emu.wait_for_bot_message(emu.private_chat(user), after=menu,
                                                       timeout=60)
                        answer = emu.send(user, rng.choice(["America/Bogota", "Marte"]))
                        await emu.wait_for_bot_message(emu.private_chat(user), after=answer,
                                                       timeout=60)
                    done["flow_answers"] += 1
                else:
                    text = ["/language es", "/timezone Europe/Madrid", "/help"][choice - 1]
                    sent = emu.send(user, text)
                    await emu.wait_for_bot_message(emu.private_chat(user), after=sent,
                                                   timeout=60)
                    done["commands"] += 1
            except (DriverError, TimeoutError) as exc:
                errors.append(f"person: {type(exc).__name__} {exc}"[:200])
            await asyncio.sleep(rng.random() * 0.5)

    await asyncio.gather(*(voter(i) for i in range(VOTERS)),
                         *(announcer(i) for i in range(ANNOUNCERS)),
                         *(person(i) for i in range(PEOPLE)))
    # The load is over; what is left is draining the notes at Telegram's 30 a second (about
    # 45 s of them). That is the sender's pace, tested elsewhere, not the writers': the emulated
    # clock runs ten times faster for it, the emulator's limits and the bot's pacer with it.
    emu.clock.scale = 10.0

    async def settled():  # type: ignore[no-untyped-def]
        counts = await table_counts(service.db)
        busy = (counts["outbox"].get("queued", 0) + counts["outbox"].get("sending", 0)
                + counts["updates"].get("received", 0) + counts["updates"].get("handling", 0))
        return counts if busy == 0 else None

    counts = await eventually(settled, timeout=120, what="the outbox and the updates settled")
    locked_lines = [line[:160] for line in debug_logging.lines[mark:] if LOCKED in line]
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] if latencies else 0.0
    report(writers=VOTERS + ANNOUNCERS + PEOPLE, seconds=SECONDS, **dict(done),
           outbox=counts["outbox"], updates=counts["updates"], errors=len(errors),
           locked=len(locked_lines), direct_write_p99_ms=round(p99 * 1000),
           presses_answered_too_late=sum(w.startswith("query is too old")
                                         for w in emu.wasted_requests))
    assert not [e for e in errors if LOCKED in e]
    assert locked_lines == []
    assert errors == [], errors[:5]
    assert done["votes"] > 0 and done["fanouts"] > 0 and done["commands"] > 0

"""The crash test of rule D: a 2,000-chat fan-out, the bot process killed with SIGKILL at ten
moments spread over it (seeded: a new seed each run, printed; `TEST_SEED=<seed>` replays those
moments), restarted each time. Every chat ends with at least one copy, and extra copies are at
most the sends in flight at the kills.

The sender claims rows just in time, at most `send_concurrency` (8) at once, so at most 8 sends
are in flight at a kill; the test counts the rows left claimed at each kill and prints them. "In
flight" includes a send whose answer came back but is not committed yet: a worker commits its
last answer together with its next row's mark (one group commit a delivery), so each worker holds
at most one claimed row without a committed answer, and a kill finds at most 8. The emulator's
clock runs 10x (and the bot's follows it), so Telegram's 30 a second costs a tenth.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db.engine import Database
from bot.db.migrate import upgrade_database
from bot.db.models import OutboxRow
from bot.delivery import outbox
from bot.emulator import Emulator
from tests.conftest import TOKEN
from tests.delivery_helpers import copy_counts, make_audience
from tests.helpers import eventually
from tests.process import BotProcess, bot_env

pytestmark = pytest.mark.serial  # it kills the bot at moments chosen by the rate of sends

CHATS = 2000
KILLS = 10
CONCURRENCY = 8  # the sender's default (SEND_CONCURRENCY, bot/config.py)


async def test_sigkill_ten_times_during_a_2000_chat_fanout(emu: Emulator, database_url: str,
                                                            tmp_path: Path) -> None:
    # A new seed each run unless TEST_SEED gives one (to replay a printed seed).
    seed = int(os.environ.get("TEST_SEED") or random.randrange(1_000_000))
    rng = random.Random(seed)
    print(f"seed={seed} (TEST_SEED={seed} replays the kill moments)")
    emu.clock.scale = 10.0
    audience = make_audience(emu, private=CHATS // 2, groups=CHATS // 2)
    ids = [c.id for c in audience.chats]
    db = Database(database_url)
    await upgrade_database(db)
    messages = [outbox.Outgoing(chat_id=c, text="crash test #c") for c in ids]
    async with db.transaction() as session:
        fanout = await outbox.enqueue(session, "crash", "test", messages,
                                      datetime.fromtimestamp(emu.clock.now(), UTC))
    env = bot_env(emu, database_url, TOKEN)
    moments = sorted(rng.sample(range(100, CHATS - 100), KILLS))
    process = await BotProcess(env, tmp_path).start()
    in_flight: list[int] = []
    for moment in moments:
        await emu.wait_for(lambda m=moment: emu.api.metrics.sends >= m, timeout=120,
                           what=f"{moment} sends")
        await process.kill()
        async with db.sessions() as session:
            claimed = (await session.execute(
                select(func.count()).select_from(OutboxRow)
                .where(OutboxRow.state == "sending", OutboxRow.claimed_by.is_not(None))
            )).scalar_one()
        in_flight.append(int(claimed))
        process = await BotProcess(env, tmp_path).start()

    async def done() -> bool:
        async with db.sessions() as session:
            return (await outbox.status(session, fanout)).done

    await emu.wait_for(lambda: emu.api.metrics.sends >= CHATS, timeout=180, what="all sends")
    await eventually(done, timeout=120, what="every row final")
    async with db.sessions() as session:
        result = await outbox.status(session, fanout)
    assert await process.terminate() == 0
    await db.dispose()
    counts = copy_counts(emu, ids, "#c")
    missing = [c for c, n in counts.items() if n < 1]
    extra = sum(n - 1 for n in counts.values() if n > 1)
    print(f"kills={KILLS} at_sends={moments} in_flight_at_kills={in_flight} "
          f"(sum {sum(in_flight)}, sender concurrency {CONCURRENCY}) duplicates={extra} "
          f"possibly_duplicated={result.possibly_duplicated} missing={len(missing)}")
    assert result.counts["sent"] == CHATS
    assert missing == []
    assert all(n <= CONCURRENCY for n in in_flight)
    assert extra <= sum(in_flight)
    assert result.orphans >= extra

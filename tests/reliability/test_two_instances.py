"""Two instances on one PostgreSQL database, in webhook mode behind a round-robin proxy.

- started together, the migrations run once (the other instance waits on the lock, then finds
  the schema current);
- a guided flow (rule C) started on one instance continues on the other;
- one sender paces at a time: during a fan-out with both up, the emulator's peak per second
  stays within Telegram's 30;
- the instance holding the sender lease is killed (SIGKILL) mid-fan-out: the other takes over
  (the time is measured; must be under 60 s), every chat gets a copy, and the extra copies are
  at most the sends the killed instance had in flight (rule D).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import SavedUpdate
from bot.emulator import Emulator
from tests.conftest import PG_URL
from tests.delivery_helpers import copy_counts, make_audience
from tests.helpers import eventually, updates_handled
from tests.reliability.instances import Cluster

pytestmark = pytest.mark.skipif(not PG_URL, reason="several instances share one PostgreSQL "
                                "database (SQLite has one owner process)")

TELEGRAM_PER_SECOND = 30
CONCURRENCY = 8  # SEND_CONCURRENCY's default: sends in flight a kill may leave unanswered


@pytest.fixture
async def cluster(emu: Emulator, empty_database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    found = Cluster(emu, empty_database_url, tmp_path)
    try:
        yield await found.start()
    finally:
        await found.stop()


async def ask(emu: Emulator, user, text: str, timeout: float = 30):  # type: ignore[no-untyped-def]
    sent = emu.send(user, text)
    return await emu.wait_for_bot_message(emu.private_chat(user), after=sent, timeout=timeout)


async def test_two_instances_migrate_once_share_flows_pace_and_fail_over(
        emu: Emulator, cluster: Cluster, seed: int, report) -> None:
    rng = random.Random(seed)
    a, b = cluster.instances
    ran = [i.name for i in (a, b) if "Running upgrade" in i.output]
    assert len(ran) == 1, f"migrations ran in {ran}"
    assert all("db.migrated revision=" in i.output for i in (a, b))

    # Rule C: a guided flow's steps are handled by whichever instance claims them. Each step is
    # sent once the step before it is marked done: the proxy hands steps to A and B in turn and
    # the receiving instance claims at once, so the flow moves between instances. (Sent while the
    # previous step was still being marked done, the next one waited for its lane and was claimed
    # by the instance that had just finished it: every step of every flow could stay on one.)
    async def settled(person) -> None:  # type: ignore[no-untyped-def]
        await eventually(lambda: updates_handled(cluster, person.id), timeout=30,
                         what=f"{person.first_name}'s updates handled")

    people = [emu.add_user(f"Flow{i}", language_code="es") for i in range(4)]
    for person in people:
        menu = await ask(emu, person, "/timezone")
        await settled(person)
        emu.press(person, menu, label="Otra…")
        question = await emu.wait_for_bot_message(emu.private_chat(person), after=menu,
                                                  timeout=30)
        assert "Escribe el nombre de la zona horaria" in (question.text or "")
        await settled(person)
        wrong = await ask(emu, person, "Marte")
        assert "no es una zona horaria que conozca" in (wrong.text or "")
        await settled(person)
        done = await ask(emu, person, "America/Bogota")
        assert "hora de Colombia" in (done.text or "")
        await settled(person)
    async with cluster.db.sessions() as session:
        handled = (await session.execute(select(SavedUpdate.lane, SavedUpdate.claimed_by)
                                         .where(SavedUpdate.status == "done"))).all()
    per_person = {p.id: {by for lane, by in handled if lane == p.id} for p in people}
    across = sum(1 for ids in per_person.values() if len(ids) == 2)
    assert across >= 1, f"no flow crossed instances: {per_person}"
    assert cluster.proxy is not None and min(cluster.proxy.served) > 0

    # One sender paces: a fan-out with both up, then the lease holder killed midway.
    audience = make_audience(emu, private=400, groups=400, prefix="f")
    ids = [c.id for c in audience.chats]
    sends_before = emu.api.metrics.sends
    emu.api.metrics.per_second.clear()
    fanout = await cluster.enqueue("failover", ids, "failover #f")
    holder = await cluster.lease_holder()
    kill_at = sends_before + rng.randrange(200, 500)
    await emu.wait_for(lambda: emu.api.metrics.sends >= kill_at, timeout=120,
                       what=f"{kill_at} sends")
    peak_both_up = max(emu.api.metrics.per_second.values(), default=0)
    await cluster.kill(holder)
    killed_at = time.monotonic()
    in_flight = await cluster.claimed_by(holder)
    sends_at_kill = emu.api.metrics.sends
    survivor = b if holder is a else a
    await emu.wait_for(lambda: emu.api.metrics.sends > sends_at_kill, timeout=90,
                       what="the other instance sending")
    failover_s = time.monotonic() - killed_at

    async def done():  # type: ignore[no-untyped-def]
        found = await cluster.status(fanout)
        return found if found.done else None

    result = await eventually(done, timeout=120, what="every row final")
    counts = copy_counts(emu, ids, "#f")
    missing = [c for c, n in counts.items() if n < 1]
    extra = sum(n - 1 for n in counts.values() if n > 1)
    peak = max(emu.api.metrics.per_second.values(), default=0)
    # Updates still reach the survivor: the proxy skips the dead one.
    late = emu.add_user("Late", language_code="es")
    assert "¡Hola!" in ((await ask(emu, late, "/start")).text or "")
    assert (await ask(emu, late, "/help")).text  # one of the two went to the dead one first
    assert sum(cluster.proxy.refused) >= 1
    report(instances=2, chats=len(ids), killed=holder.name, survivor=survivor.name,
           kill_after_sends=kill_at - sends_before, in_flight_at_kill=in_flight,
           failover_s=round(failover_s, 1), peak_per_second_both_up=peak_both_up,
           peak_per_second=peak, too_many_requests=emu.api.metrics.too_many,
           duplicates=extra, possibly_duplicated=result.possibly_duplicated,
           missing=len(missing), flows_across_instances=f"{across}/{len(people)}",
           proxy_served=cluster.proxy.served, proxy_refused=cluster.proxy.refused)
    assert failover_s < 60
    assert peak_both_up <= TELEGRAM_PER_SECOND and peak <= TELEGRAM_PER_SECOND
    assert result.counts.get("sent") == len(ids)
    assert missing == []
    assert in_flight <= CONCURRENCY
    assert extra <= in_flight
    assert survivor.process.proc is not None and survivor.process.proc.returncode is None


CRASH_CHATS = 2000
KILLS = 10


async def test_crash_test_with_two_instances_one_killed_at_random(
        emu: Emulator, cluster: Cluster, seed: int, report) -> None:
    """The delivery crash test (tests/test_delivery_crash.py) with two instances: at ten seeded
    moments of a 2,000-chat fan-out one instance, chosen at random, is killed with SIGKILL and
    restarted. Every chat ends with a copy; the extra copies are at most the sends the killed
    instances had in flight (rows they had claimed without a recorded answer)."""
    rng = random.Random(seed)
    emu.clock.scale = 10.0  # Telegram's 30 a second in emulated time costs a tenth
    audience = make_audience(emu, private=CRASH_CHATS // 2, groups=CRASH_CHATS // 2, prefix="k")
    ids = [c.id for c in audience.chats]
    started = time.monotonic()
    fanout = await cluster.enqueue("crash-two", ids, "crash two #k")
    moments = sorted(rng.sample(range(100, CRASH_CHATS - 100), KILLS))
    kills: list[tuple[str, bool, int]] = []
    for moment in moments:
        await emu.wait_for(lambda m=moment: emu.api.metrics.sends >= m, timeout=180,
                           what=f"{moment} sends")
        victim = rng.choice(cluster.instances)
        holder = await cluster.claimed_by(victim) > 0
        await cluster.kill(victim)
        in_flight = await cluster.claimed_by(victim)
        kills.append((victim.name, holder, in_flight))
        await cluster.restart(victim)

    async def done():  # type: ignore[no-untyped-def]
        found = await cluster.status(fanout)
        return found if found.done else None

    result = await eventually(done, timeout=240, what="every row final")
    elapsed = time.monotonic() - started
    counts = copy_counts(emu, ids, "#k")
    missing = [c for c, n in counts.items() if n < 1]
    extra = sum(n - 1 for n in counts.values() if n > 1)
    in_flight_total = sum(n for _, _, n in kills)
    report(instances=2, chats=CRASH_CHATS, kills=KILLS, at_sends=moments,
           killed=[f"{name}{'(sender)' if holder else ''}:{n}" for name, holder, n in kills],
           in_flight_total=in_flight_total, duplicates=extra,
           possibly_duplicated=result.possibly_duplicated, missing=len(missing),
           wall_s=round(elapsed, 1))
    assert result.counts.get("sent") == CRASH_CHATS
    assert missing == []
    assert all(n <= CONCURRENCY for _, _, n in kills)
    assert extra <= in_flight_total
    assert result.orphans >= extra

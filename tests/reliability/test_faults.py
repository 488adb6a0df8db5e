"""Every fault the emulator injects, each at 10% of the sends (500, 502, 429, time-out, answer
lost), during a broadcast, a poll and a wave of reminders (scheduled rows that each fan out).

Every reachable chat is served at least once; the blocked ones end `unreachable`; the extra copies
are at most the sends whose answer was lost (rule D: the injected ones, and any whose client
timed out after the send was applied, which the emulator counts), and the outbox counts them as
possibly duplicated. The emulator's clock runs 30x, so Telegram's 30 a second (and the bot's
back-off) cost a thirtieth; a time-out's hold is real time.
"""

from __future__ import annotations

import time
from collections import Counter

from bot.emulator import Emulator
from tests.delivery_helpers import fan_out, finished, make_audience
from tests.reliability.support import schedule_waves, wave_kind

FAULTS = ("500", "502", "429", "timeout", "lost")
RATE = 0.10
SEND_METHODS = {"sendMessage", "sendPoll"}


def marked(emu: Emulator, chat_id: int, marker: str) -> int:
    """Copies holding `marker` in a chat: texts and polls alike."""
    return sum(1 for m in emu.transcript(chat_id) if m.from_bot and (
        marker in (m.text or "") or (m.poll is not None and marker in m.poll.question)))


async def test_every_fault_at_10_percent_broadcast_poll_and_reminders(
        emu: Emulator, make_bot, seed: int, report) -> None:
    emu.clock.scale = 30.0
    # A time-out or a lost answer holds the request 1 s (real time: the bot waits on a socket),
    # then drops it; the bot's read time-out is 5 s, so the drop is what it sees either way.
    emu.faults.hold = 1.0
    service = await make_bot(extra_kinds=[wave_kind], read_timeout=5)
    audience = make_audience(emu, private=200, groups=200, prefix="z")
    blocked = audience.private[:5]
    for chat in blocked:
        emu.block(emu.user(chat.id))
    ids = [c.id for c in audience.chats]
    reachable = [c for c in ids if c not in {b.id for b in blocked}]
    for number, kind in enumerate(FAULTS):
        # Each rule sees the requests the ones before it let through: 10% of those.
        emu.faults.add(kind, rate=RATE, methods=SEND_METHODS, seed=seed + number)
    figures: dict[str, object] = {}
    total_extra = 0
    total_lost = 0

    async def phase(name: str, marker: str, start) -> None:  # type: ignore[no-untyped-def]
        nonlocal total_extra, total_lost
        before = Counter(emu.faults.injected)
        timed_out_before = emu.api.metrics.answers_lost
        sends_before = emu.api.metrics.sends
        emulated, wall = emu.clock.now(), time.monotonic()
        results = await start()
        emulated_s = emu.clock.now() - emulated
        injected = Counter(emu.faults.injected) - before
        # Answers lost without a fault: the client timed out after the send was applied (a
        # loaded machine); as real as the injected ones, and the outbox counts both.
        timed_out = emu.api.metrics.answers_lost - timed_out_before
        lost = injected["lost"] + timed_out
        copies = Counter({c: marked(emu, c, marker) for c in ids})
        missing = [c for c in reachable if copies[c] < 1]
        extra = sum(n - 1 for n in copies.values() if n > 1)
        possibly = sum(r.possibly_duplicated for r in results)
        sent = sum(r.counts.get("sent", 0) for r in results)
        unreachable = sum(r.counts.get("unreachable", 0) for r in results)
        figures[name] = {
            "chats": len(ids), "sent": sent, "unreachable": unreachable,
            "missing": len(missing), "extra_copies": extra, "lost_answers": lost,
            "client_timed_out": timed_out,
            "possibly_duplicated": possibly, "faults": dict(injected),
            "sends": emu.api.metrics.sends - sends_before,
            "chats_per_emulated_s": round(len(ids) / max(emulated_s, 0.001), 1),
            "wall_s": round(time.monotonic() - wall, 1)}
        assert missing == [], f"{name}: {len(missing)} reachable chats without a copy"
        assert sent == len(reachable) and unreachable == len(blocked), figures[name]
        assert extra <= lost, figures[name]
        assert extra <= possibly, figures[name]
        assert sum(injected[k] for k in FAULTS) > 0
        total_extra += extra
        total_lost += lost

    async def broadcast():  # type: ignore[no-untyped-def]
        fanout = await fan_out(service, "faults-broadcast", ids, "broadcast #b")
        return [await finished(service, fanout, timeout=240)]

    async def poll():  # type: ignore[no-untyped-def]
        from bot.delivery import outbox

        async with service.db.transaction() as session:
            fanout = await outbox.enqueue(session, "faults-poll", "test", [outbox.Outgoing(
                chat_id=c, poll={"question": "Priority? #p", "options": ["Tax", "Registry"],
                                 "is_anonymous": False}) for c in ids], service.clock.now())
        service.sender.wake()
        return [await finished(service, fanout, timeout=240)]

    async def reminders():  # type: ignore[no-untyped-def]
        from sqlalchemy import select

        from bot.db.models import Fanout

        waves = 4
        size = len(ids) // waves
        for wave in range(waves):  # four scheduled rows, each reminding a quarter
            await schedule_waves(service.db, service.clock.now(),
                                 ids[wave * size:(wave + 1) * size], 1, f"reminder {wave} #r")

        async def fanouts():  # type: ignore[no-untyped-def]
            async with service.db.sessions() as session:
                found = (await session.execute(select(Fanout.id).where(
                    Fanout.key.like("wave:%")))).scalars().all()
            return found if len(found) == waves else None

        from tests.helpers import eventually

        made = await eventually(fanouts, timeout=60, what="four reminder fan-outs")
        return [await finished(service, f, timeout=240) for f in made]

    await phase("broadcast", "#b", broadcast)
    await phase("poll", "#p", poll)
    await phase("reminders", "#r", reminders)
    report(fault_rate=RATE, faults=",".join(FAULTS), blocked=len(blocked), **figures,
           extra_copies_total=total_extra, lost_answers_total=total_lost)

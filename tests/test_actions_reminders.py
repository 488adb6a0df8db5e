"""Reminders as scheduled rows (rule S), driven by moving the emulator's clock: each offset in
two time zones, once; a move replaces them and a cancellation removes them (the organisations
that said going or maybe are told); the bot down across a reminder sends it late before the
action, and marks it missed after it started; 1,000 future reminders survive a restart (and a
stop in the middle of their run), none doubled."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db.models import Fanout, OutboxRow, ScheduledTask
from bot.emulator import Emulator
from bot.services.actions import actions
from handlers.actions.copies import announcement_copy
from tests.action_helpers import (
    CLOCK_START,
    add_org,
    advance_to,
    bot_texts,
    coordinator,
    local,
    make_action,
    press,
    reminder_rows,
    rsvp,
    set_zone,
    settled,
    text_after,
)
from tests.delivery_helpers import finished
from tests.helpers import eventually, swept

MX = "America/Mexico_City"


@pytest.fixture
def clock_start() -> datetime:
    """The dates below are fixed: the emulator's clock starts before them, whatever today is."""
    return CLOCK_START


async def announced(bot: Any, action_id: int) -> None:
    async with bot.db.sessions() as session:
        item = await actions.get(session, action_id)
        assert item is not None and item.fanout_id is not None
        fanout_id = item.fanout_id
    await finished(bot, fanout_id)


async def test_reminders_at_each_offset_in_two_time_zones(emu: Emulator, make_bot) -> None:
    bot = await make_bot()
    mx = await add_org(emu, bot, "Red Jalisco")  # Spanish group, the default zone
    madrid = await add_org(emu, bot, "Voces del Norte", group_language="en")
    await set_zone(bot, madrid.groups[0].id, "Europe/Madrid")
    both = await add_org(emu, bot, "Tercera Vía", group_language="both")
    starts = local("2027-01-20 18:00", MX)  # 2027-01-21 00:00 UTC, 01:00 in Madrid
    action_id = await make_action(bot, "Consulta pública", starts, timezone=MX)
    await announced(bot, action_id)
    assert [r.due_at for r in await reminder_rows(bot, action_id)] == [
        starts - timedelta(days=7), starts - timedelta(days=1), starts - timedelta(hours=1)]

    steps = [(timedelta(days=7), "7 días antes", "7 days before"),
             (timedelta(days=1), "1 día antes", "1 day before"),
             (timedelta(hours=1), "1 hora antes", "1 hour before")]
    for n, (before, es_label, en_label) in enumerate(steps, 1):
        assert len(bot_texts(emu, mx.groups[0], "Recordatorio")) == n - 1
        advance_to(emu, starts - before, plus=-60)  # a minute early: nothing yet
        await swept(bot)
        assert len(bot_texts(emu, mx.groups[0], "Recordatorio")) == n - 1
        advance_to(emu, starts - before)
        await emu.wait_for(lambda n=n: len(bot_texts(emu, mx.groups[0], "Recordatorio")) == n
                           and len(bot_texts(emu, madrid.groups[0], "Reminder")) == n,
                           what=f"reminder {n} in both chats")
        es_text = bot_texts(emu, mx.groups[0], "Recordatorio")[-1]
        en_text = bot_texts(emu, madrid.groups[0], "Reminder")[-1]
        assert es_label in es_text and "Consulta pública" in es_text
        assert "mié 20 ene 2027, 18:00 (hora de México (Ciudad de México))" in es_text
        assert en_label in en_text
        assert "Thu 21 Jan 2027, 01:00 (Spain (Madrid) Time)" in en_text
    await settled(bot)
    advance_to(emu, starts + timedelta(hours=2))
    await swept(bot)
    assert len(bot_texts(emu, mx.groups[0], "Recordatorio")) == 3
    assert len(bot_texts(emu, madrid.groups[0], "Reminder")) == 3
    rows = await reminder_rows(bot, action_id)
    assert [(r.status, r.attempts) for r in rows] == [("done", 1)] * 3
    twice = bot_texts(emu, both.groups[0], "Recordatorio")  # a `both` chat: Spanish, English
    assert len(twice) == 3 and all("Reminder" in text for text in twice)


async def test_an_action_moved_then_cancelled(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    going = await add_org(emu, bot, "Red Jalisco")
    maybe = await add_org(emu, bot, "Voces del Norte", group_language="en")
    no = await add_org(emu, bot, "Colectivo Sombra", low_profile=True)
    starts = local("2027-01-20 18:00", MX)
    action_id = await make_action(bot, "Reunión de coalición", starts, timezone=MX)
    await announced(bot, action_id)
    await rsvp(bot, action_id, going.id, "going")
    await rsvp(bot, action_id, maybe.id, "maybe")
    await rsvp(bot, action_id, no.id, "not_going")

    sent = emu.send(coord, "/upcoming")
    listing = await text_after(emu, emu.private_chat(coord), "Coming actions", sent.message_id)
    assert "Going 1 · maybe 1 · not going 1" in listing.text
    await press(emu, coord, listing, "Move")
    sent = emu.send(coord, "2027-01-27 18:00")  # the coordinator's zone is the default (MX)
    await text_after(emu, emu.private_chat(coord), "Moved to", sent.message_id)
    moved = local("2027-01-27 18:00", MX)
    await settled(bot, "the move told")
    assert len(bot_texts(emu, going.groups[0], "Cambio de fecha")) == 1
    assert len(bot_texts(emu, maybe.groups[0], "Moved")) == 1
    assert bot_texts(emu, no.groups[0], "Cambio de fecha") == []
    told = bot_texts(emu, going.groups[0], "Cambio de fecha")[0]
    assert "mié 27 ene 2027, 18:00" in told and "20 ene" in told
    rows = await reminder_rows(bot, action_id)
    assert sorted((r.due_at, r.status) for r in rows) == [
        (moved - timedelta(days=7), "pending"), (moved - timedelta(days=1), "pending"),
        (moved - timedelta(hours=1), "pending")]

    # The old times pass quietly; the first new one (the 7-day, at the old start) fires once.
    advance_to(emu, starts - timedelta(minutes=5))
    await swept(bot)
    for org in (going, no):
        assert bot_texts(emu, org.groups[0], "Recordatorio") == []
    advance_to(emu, moved - timedelta(days=7))
    await emu.wait_for(lambda: all(len(bot_texts(emu, o.groups[0], m)) == 1 for o, m in (
        (going, "Recordatorio"), (maybe, "Reminder"), (no, "Recordatorio"))),
        what="the new 7-day reminder in every chat")

    sent = emu.send(coord, "/upcoming")
    listing = await text_after(emu, emu.private_chat(coord), "Coming actions", sent.message_id)
    confirm = await press(emu, coord, listing, "Cancel")
    emu.press(coord, confirm, label="Yes, cancel it")
    await text_after(emu, emu.private_chat(coord), "Its reminders are gone", confirm.message_id)
    await settled(bot, "the cancellation told")
    assert len(bot_texts(emu, going.groups[0], "Cancelada")) == 1
    assert len(bot_texts(emu, maybe.groups[0], "Cancelled")) == 1
    assert bot_texts(emu, no.groups[0], "Cancelada") == []
    assert [r.status for r in await reminder_rows(bot, action_id)] == ["done"]
    advance_to(emu, moved + timedelta(hours=1))
    await swept(bot)
    assert len(bot_texts(emu, going.groups[0], "Recordatorio")) == 1
    assert len(bot_texts(emu, maybe.groups[0], "Reminder")) == 1
    # The low-profile organisation is named in nothing the others read.
    for org in (going, maybe):
        for m in emu.transcript(org.groups[0]):
            assert "Sombra" not in (m.text or "")


async def test_down_across_a_reminder_late_then_missed(emu: Emulator, make_bot) -> None:
    first = await make_bot()
    org = await add_org(emu, first, "Red Jalisco")
    starts = local("2027-01-20 18:00", MX)
    action_id = await make_action(first, "Audiencia en el Congreso", starts, timezone=MX,
                                  offsets=[24 * 60, 60])
    await announced(first, action_id)
    await first.stop()

    advance_to(emu, starts - timedelta(hours=20))  # the 1-day reminder is 4 hours late
    second = await make_bot()
    await emu.wait_for(lambda: len(bot_texts(emu, org.groups[0], "Recordatorio")) == 1,
                       what="the late reminder")
    assert "1 día antes" in bot_texts(emu, org.groups[0], "Recordatorio")[0]
    await settled(second)
    await second.stop()

    advance_to(emu, starts + timedelta(minutes=10))  # the 1-hour one: the action has started
    third = await make_bot()

    async def statuses() -> list[str] | None:
        found = [r.status for r in await reminder_rows(third, action_id)]
        return found if "pending" not in found and "running" not in found else None

    assert await eventually(statuses, what="the rows finished") == ["done", "missed"]
    await swept(third)
    assert len(bot_texts(emu, org.groups[0], "Recordatorio")) == 1


async def test_a_restart_with_1000_future_reminders(emu: Emulator, make_bot) -> None:
    first = await make_bot()
    org = await add_org(emu, first, "Red Jalisco")
    base = local("2027-01-20 18:00", MX)
    began = time.perf_counter()
    async with first.db.transaction() as session:
        for i in range(1000):
            # Three reach the organisation; the rest reach nobody (a region no member works in),
            # so the test is about the rows, not about Telegram's pace.
            await actions.create(session, first.clock.now(), announcement_copy(MX), "es",
                                 title=f"Acción {i:04d}", starts_at=base + timedelta(seconds=i),
                                 timezone=MX, offsets=[60],
                                 regions=[] if i < 3 else ["GT"])
    made = time.perf_counter() - began
    first.sender.wake()
    before = await reminder_rows(first)
    assert len(before) == 1000 and {r.status for r in before} == {"pending"}
    await settled(first, "the announcements")
    await first.stop()

    began = time.perf_counter()
    second = await make_bot()
    restarted = time.perf_counter() - began
    after = await reminder_rows(second)
    assert [(r.id, r.due_at, r.status, r.dedupe_key) for r in after] == [
        (r.id, r.due_at, r.status, r.dedupe_key) for r in before]

    advance_to(emu, base - timedelta(hours=1) + timedelta(seconds=999))
    began = time.perf_counter()
    await emu.wait_for(lambda: len(bot_texts(emu, org.groups[0], "Recordatorio")) == 3,
                       timeout=30, what="the three real reminders")

    async def some_done() -> bool:
        return sum(r.status == "done" for r in await reminder_rows(second)) >= 200

    await eventually(some_done, timeout=30, what="a part of the reminders run")
    await second.stop()  # stopped in the middle of the run
    third = await make_bot()

    async def all_done() -> bool:
        return all(r.status == "done" for r in await reminder_rows(third))

    await eventually(all_done, timeout=120, what="every reminder run")
    ran = time.perf_counter() - began
    rows = await reminder_rows(third)
    assert len(rows) == 1000
    assert all(r.attempts <= 2 for r in rows)  # a second attempt only for a run cut short
    async with third.db.sessions() as session:
        fanouts = (await session.execute(select(func.count()).select_from(Fanout).where(
            Fanout.purpose == "action.remind"))).scalar_one()
        copies = (await session.execute(
            select(OutboxRow.chat_id, func.count()).join(Fanout, Fanout.id == OutboxRow.fanout_id)
            .where(Fanout.purpose == "action.remind").group_by(OutboxRow.chat_id))).all()
        leftover = (await session.execute(select(func.count()).select_from(ScheduledTask).where(
            ScheduledTask.kind == actions.REMIND_KIND,
            ScheduledTask.status != "done"))).scalar_one()
    assert fanouts == 1000 and leftover == 0
    assert copies == [(org.groups[0].id, 3)]
    await swept(third)
    assert len(bot_texts(emu, org.groups[0], "Recordatorio")) == 3
    print(f"1000 actions made in {made:.2f}s; restart {restarted:.2f}s; "
          f"1000 reminders run in {ran:.2f}s (with a stop and start in the middle)")

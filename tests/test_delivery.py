"""The delivery engine (rule D) through the emulator: every reachable chat gets at least one copy,
extra copies only where an answer was lost, everyone else reported with Telegram's reason."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.db.models import Chat, OutboxRow, Person
from bot.delivery import outbox
from bot.emulator import Emulator
from tests.delivery_helpers import copies, copy_counts, fan_out, finished, make_audience, status
from tests.helpers import eventually, outbox_empty

# The engine keeps Telegram's limits, all of them, at the pace they set in real time.
pytestmark = [pytest.mark.telegram_limits, pytest.mark.serial]


async def test_every_chat_gets_one_copy_and_ids_are_kept(emu: Emulator, bot) -> None:
    audience = make_audience(emu, private=15, groups=15)
    ids = [c.id for c in audience.chats]
    fanout = await fan_out(bot, "t1", ids, "<b>Alerta</b> reforma a la ley de OSC #t1")
    result = await finished(bot, fanout)
    assert result.counts["sent"] == 30 and result.possibly_duplicated == 0
    assert all(n == 1 for n in copy_counts(emu, ids, "#t1").values())
    async with bot.db.sessions() as session:
        kept = await outbox.message_ids(session, fanout)
    for chat in audience.chats:
        landed = [m.message_id for m in emu.bot_messages(chat) if "#t1" in (m.text or "")]
        assert kept[chat.id] == landed
    assert emu.metrics()["too_many_requests"] == 0


async def test_enqueuing_twice_sends_once(emu: Emulator, bot) -> None:
    audience = make_audience(emu, private=5, groups=5)
    ids = [c.id for c in audience.chats]
    first = await fan_out(bot, "same-key", ids, "once #t2")
    second = await fan_out(bot, "same-key", ids, "once #t2")
    assert first == second
    await finished(bot, first)
    await eventually(lambda: outbox_empty(bot), what="nothing left to send")
    assert all(n == 1 for n in copy_counts(emu, ids, "#t2").values())


async def test_blocked_kicked_and_never_started_are_unreachable(emu: Emulator, bot) -> None:
    audience = make_audience(emu, private=6, groups=4)
    blocked, stranger_chat = audience.private[0], audience.private[1]
    emu.block(blocked.id)
    stranger_chat.started = False  # never opened the chat with the bot
    kicked = audience.groups[0]
    admin = emu.user(next(iter(kicked.members)))
    emu.remove_bot(kicked, by=admin)
    ids = [c.id for c in audience.chats]
    fanout = await fan_out(bot, "t3", ids, "hello #t3")
    result = await finished(bot, fanout)
    assert result.counts["sent"] == 7 and result.counts["unreachable"] == 3
    async with bot.db.sessions() as session:
        failures = {c: r for c, _, r in await outbox.failures(session, fanout)}
        person = await session.get(Person, blocked.id)
        group = await session.get(Chat, kicked.id)
    assert failures[blocked.id] == "Forbidden: bot was blocked by the user"
    assert "can't initiate conversation" in failures[stranger_chat.id]
    assert "kicked" in failures[kicked.id]
    assert person is None or person.reachable is False
    assert group is None or group.active is False
    for chat in audience.chats[2:]:
        if chat.id != kicked.id:
            assert copies(emu, chat.id, "#t3") == 1


async def test_a_group_migrating_mid_fanout_gets_its_copy_in_the_new_chat(emu: Emulator,
                                                                          make_bot) -> None:
    # 120 chats at Telegram's 30 a second (the emulator's limits are on) take about 4 seconds;
    # the group migrates once 30 copies are out, before its own turn (rows go out in enqueue
    # order, and it is the last one).
    audience = make_audience(emu, private=60, groups=60)
    ids = [c.id for c in audience.chats]
    old = audience.groups[-1]
    service = await make_bot()
    async with service.db.transaction() as session:
        session.add(Chat(id=old.id, type="group", language="en", timezone=None, active=True,
                         created_at=service.clock.now(), updated_at=service.clock.now()))
    fanout = await fan_out(service, "t4", ids, "migrating #t4")
    await emu.wait_for(lambda: emu.api.metrics.sends >= 30, timeout=30, what="30 sends")
    sent_before = emu.api.metrics.sends
    assert sent_before < len(ids) and copies(emu, old.id, "#t4") == 0  # mid-fan-out, not yet sent
    new = emu.migrate(old)
    result = await finished(service, fanout)
    print(f"migrated after {sent_before} of {len(ids)} sends")
    assert result.counts["sent"] == len(ids)
    assert copies(emu, new.id, "#t4") == 1 and copies(emu, old.id, "#t4") == 0
    others = copy_counts(emu, [c for c in ids if c != old.id], "#t4")
    assert all(n == 1 for n in others.values()), others
    async with service.db.sessions() as session:
        moved = await session.get(Chat, new.id)
        gone = await session.get(Chat, old.id)
        rows = (await session.execute(
            select(OutboxRow.chat_id, OutboxRow.state)
            .where(OutboxRow.fanout_id == fanout))).all()
        kept = await outbox.message_ids(session, fanout)
    assert moved is not None and moved.language == "en" and gone is None
    chats = [chat for chat, _ in rows]
    assert sorted(chats) == sorted(new.id if c == old.id else c for c in ids)
    assert {state for _, state in rows} == {"sent"}
    assert kept[new.id] == [m.message_id for m in emu.bot_messages(new)]


async def test_a_long_text_arrives_split_and_whole(emu: Emulator, bot) -> None:
    audience = make_audience(emu, private=2, groups=1)
    paragraphs = [f"Párrafo {i}: " + "palabra " * 120 for i in range(10)]
    text = "#t5\n\n" + "\n\n".join(paragraphs)
    assert len(text) > 9000
    fanout = await fan_out(bot, "t5", [c.id for c in audience.chats], text)
    await finished(bot, fanout)
    async with bot.db.sessions() as session:
        kept = await outbox.message_ids(session, fanout)
    for chat in audience.chats:
        parts = emu.bot_messages(chat)
        assert len(parts) == 3 and kept[chat.id] == [m.message_id for m in parts]
        joined = "\n\n".join(m.text for m in parts)
        assert joined.split() == text.split()


async def test_a_429_storm_waits_without_spending_attempts(emu: Emulator, make_bot) -> None:
    emu.clock.scale = 5.0
    service = await make_bot()
    audience = make_audience(emu, private=10, groups=10)
    emu.faults.retry_after = 2
    emu.faults.add("429", rate=1.0, methods={"sendMessage"})
    fanout = await fan_out(service, "t6", [c.id for c in audience.chats], "storm #t6")
    await asyncio.sleep(10 / emu.clock.scale)  # the storm lasts ten emulated seconds
    assert emu.faults.injected["429"] >= 2
    emu.faults.clear()
    result = await finished(service, fanout)
    assert result.counts["sent"] == 20 and result.possibly_duplicated == 0
    async with service.db.sessions() as session:
        attempts = (await session.execute(select(OutboxRow.attempts))).scalars().all()
    assert set(attempts) == {0}
    assert all(n == 1 for n in copy_counts(emu, [c.id for c in audience.chats], "#t6").values())


async def test_faults_cost_at_most_the_lost_answers(emu: Emulator, make_bot) -> None:
    emu.clock.scale = 5.0
    service = await make_bot(read_timeout=1.0)
    emu.faults.hold = 1.5
    audience = make_audience(emu, private=60, groups=60)
    ids = [c.id for c in audience.chats]
    refused = [emu.faults.add(kind, rate=0.05, methods={"sendMessage"}, seed=seed)
               for kind, seed in (("500", 1), ("502", 2))]
    lost = emu.faults.add("lost", rate=0.05, methods={"sendMessage"}, seed=3)
    fanout = await fan_out(service, "t7", ids, "faults #t7")
    result = await finished(service, fanout, timeout=120)
    counts = copy_counts(emu, ids, "#t7")
    extra = sum(n - 1 for n in counts.values())
    # A send whose client timed out after it was applied loses its answer too (a slow machine).
    timed_out = emu.metrics()["answers_lost"]
    print(f"refused={sum(r.fired for r in refused)} lost={lost.fired} "
          f"client_timed_out={timed_out} extra_copies={extra} "
          f"possibly_duplicated={result.possibly_duplicated}")
    assert sum(r.fired for r in refused) > 0 and lost.fired > 0
    assert result.counts["sent"] == len(ids)
    assert all(n >= 1 for n in counts.values())
    assert extra <= lost.fired + timed_out
    assert result.orphans >= extra and result.possibly_duplicated <= result.orphans


async def test_progress_is_edited_and_ends_with_totals_and_reasons(emu: Emulator, bot) -> None:
    coordinator = emu.add_user("Coord", language_code="en")
    emu.private_chat(coordinator).started = True
    audience = make_audience(emu, private=40, groups=10)
    emu.block(audience.private[0].id)
    fanout = await fan_out(bot, "t8", [c.id for c in audience.chats], "progress #t8",
                           report_chat_id=coordinator.id)
    await finished(bot, fanout)
    report_chat = emu.private_chat(coordinator)

    def final_report():
        shown = emu.bot_messages(report_chat)
        return shown[0] if shown and "Terminado" in (shown[0].text or "") else None

    report = await emu.wait_for(final_report, timeout=15, what="the final report")
    assert len(emu.bot_messages(report_chat)) == 1  # one message, edited in place
    assert "Enviados: 49 de 50" in report.text
    assert "Forbidden: bot was blocked by the user: 1" in report.text
    edits = [r for r in emu.requests if r.method == "editMessageText"]
    assert all(r.status == 200 for r in edits)
    async with bot.db.sessions() as session:
        assert (await status(bot, fanout)).counts["unreachable"] == 1
        assert session is not None


async def test_polls_documents_buttons_and_protected_content(emu: Emulator, bot) -> None:
    import base64

    audience = make_audience(emu, private=2, groups=2)
    ids = [c.id for c in audience.chats]
    buttons = [[{"text": "Recibido", "callback_data": "v1:ack"}]]
    poll = {"question": "¿Prioridad?", "options": ["Ley de OSC", "Impuestos"],
            "is_anonymous": False}
    document = {"filename": "iniciativa.pdf",
                "content_b64": base64.b64encode(b"%PDF-1.4 test").decode()}
    async with bot.db.transaction() as session:
        polls = await outbox.enqueue(session, "p", "poll", [
            outbox.Outgoing(chat_id=c, poll=poll, protect_content=True) for c in ids],
            bot.clock.now())
        docs = await outbox.enqueue(session, "d", "doc", [
            outbox.Outgoing(chat_id=c, document=document, caption="<b>Iniciativa</b>",
                            buttons=buttons) for c in ids], bot.clock.now())
    bot.sender.wake()
    await finished(bot, polls)
    await finished(bot, docs)
    for chat in audience.chats:
        sent = emu.bot_messages(chat)
        poll_msg = next(m for m in sent if m.poll is not None)
        doc_msg = next(m for m in sent if m.document is not None)
        assert poll_msg.protect_content and poll_msg.poll.question == "¿Prioridad?"
        assert doc_msg.document.filename == "iniciativa.pdf"
        assert doc_msg.document.content == b"%PDF-1.4 test"
        assert doc_msg.caption == "Iniciativa" and doc_msg.buttons[0][0].text == "Recibido"

"""Webhook mode (issue 14): updates arrive by the emulator's webhook delivery, the secret is
checked in constant time, an update is saved before the 200 and handled once; /health and
`coalition-bot status` report a stuck queue."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import func, select, text, update

from bot.db.models import BotState, OutboxRow, SavedUpdate
from bot.delivery import outbox
from bot.emulator import Emulator
from tests.helpers import eventually, updates_handled
from tests.org_helpers import ask

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def webhook_bot(make_bot, **overrides):
    port = free_port()
    service = await make_bot(webhook_url=f"http://127.0.0.1:{port}/tg/hook",
                             webhook_listen="127.0.0.1", webhook_port=port, **overrides)
    return service, port


async def saved_count(service) -> int:
    async with service.db.sessions() as session:
        return int((await session.execute(
            select(func.count()).select_from(SavedUpdate))).scalar_one())


async def test_updates_arrive_by_webhook_with_a_generated_secret(emu: Emulator,
                                                                make_bot) -> None:
    service, port = await webhook_bot(make_bot)
    assert emu.world.webhook.url == f"http://127.0.0.1:{port}/tg/hook"
    async with service.db.sessions() as session:
        stored = (await session.execute(select(BotState.value))).scalar_one()
    assert emu.world.webhook.secret_token == stored and len(stored) >= 32
    ana = emu.add_user("Ana", language_code="es")
    answer = await ask(emu, ana, "/start")
    assert "¡Hola!" in answer.text
    assert emu.webhook_log and all(status == 200 for _, status, _ in emu.webhook_log)
    assert not any(r.method == "getUpdates" for r in emu.requests)
    # A restart registers the same secret again.
    await service.stop()
    await make_bot(webhook_url=f"http://127.0.0.1:{port}/tg/hook", webhook_listen="127.0.0.1",
                   webhook_port=port)
    assert emu.world.webhook.secret_token == stored


async def test_forged_posts_are_refused_and_change_nothing(emu: Emulator, make_bot) -> None:
    service, port = await webhook_bot(make_bot, webhook_secret="the-right-secret_123")
    ana = emu.add_user("Ana", language_code="es")
    await ask(emu, ana, "/start")
    before = await saved_count(service)
    forged = {"update_id": 999_999, "message": {
        "message_id": 1, "date": 1, "chat": {"id": ana.id, "type": "private"},
        "from": {"id": ana.id, "is_bot": False, "first_name": "Ana"}, "text": "/start"}}
    url = f"http://127.0.0.1:{port}/tg/hook"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=forged) as missing:
            assert missing.status == 401
        async with http.post(url, json=forged,
                             headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as wrong:
            assert wrong.status == 403
        async with http.post(url, json=forged, headers={
                "X-Telegram-Bot-Api-Secret-Token": "the-right-secret_12"}) as prefix:
            assert prefix.status == 403
        async with http.post(url, data=b"not json", headers={
                "X-Telegram-Bot-Api-Secret-Token": "the-right-secret_123"}) as broken:
            assert broken.status == 400
    # Intake saves an update before it answers 200: a refused one was answered unsaved.
    assert await saved_count(service) == before
    assert len(emu.bot_messages(emu.private_chat(ana))) == 1


async def raw_post(port: int, head: bytes, body: bytes) -> bytes:
    """One HTTP request written byte by byte, as a hostile client can (aiohttp's client would
    refuse a header that is not text): returns the status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"POST /tg/hook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\n" + head
                     + b"Content-Length: " + str(len(body)).encode() + b"\r\n"
                     b"Connection: close\r\n\r\n" + body)
        await writer.drain()
        return (await reader.readline()).strip()
    finally:
        writer.close()


async def test_a_secret_header_that_is_not_text_is_refused_quietly(
        emu: Emulator, make_bot, caplog: pytest.LogCaptureFixture) -> None:
    service, port = await webhook_bot(make_bot, webhook_secret="the-right-secret_123")
    before = await saved_count(service)
    body = b'{"update_id": 999998, "message": {"message_id": 1, "date": 1, ' \
           b'"chat": {"id": 5, "type": "private"}, "text": "/start"}}'
    for secret in (b"\xff\xfe\x80", b"the-right-secret_123\xc3", "contraseña".encode("latin-1")):
        status = await raw_post(port, b"X-Telegram-Bot-Api-Secret-Token: " + secret + b"\r\n",
                                body)
        assert status == b"HTTP/1.1 403 Forbidden", (secret, status)
    assert await saved_count(service) == before
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


async def test_an_update_resent_after_a_slow_answer_is_handled_once(emu: Emulator,
                                                                   make_bot) -> None:
    service, _ = await webhook_bot(make_bot)
    ana = emu.add_user("Ana", language_code="es")
    await ask(emu, ana, "/start")
    emu.webhook_timeout = 0.5
    # Hold the database's write lock so saving the next update takes longer than the
    # emulator waits: it gives up and sends the same update again.
    async with service.db.engine.connect() as conn, conn.begin():
        if service.db.is_postgres:
            await conn.execute(text("LOCK TABLE saved_updates IN EXCLUSIVE MODE"))
        else:
            await conn.execute(update(BotState).where(BotState.key == "none").values(value=""))
        sent = emu.send(ana, "/help")
        await emu.wait_for(lambda: sum(1 for _, status, _ in emu.webhook_log if status != 200)
                           >= 1, what="a timed-out webhook delivery")
        await asyncio.sleep(0.3)  # the lock is held a little longer: the fault lasts, then ends
    emu.webhook_timeout = 60
    await emu.wait_for_bot_message(emu.private_chat(ana), after=sent)
    await emu.wait_for(lambda: emu.webhook_log[-1][1] == 200, what="the retry answered 200")
    # Every update saved is handled, so a second handling would have answered by now.
    await eventually(lambda: updates_handled(service), what="every saved update handled")
    answers = [m for m in emu.bot_messages(emu.private_chat(ana))
               if m.message_id > sent.message_id]
    assert len(answers) == 1
    deliveries = [uid for uid, _, _ in emu.webhook_log]
    assert len(deliveries) > len(set(deliveries))  # the same update was delivered twice


@pytest.mark.parametrize("stuck", [False, True])
async def test_health_and_status_report_a_stuck_queue(emu: Emulator, make_bot, database_url,
                                                      stuck: bool) -> None:
    service, port = await webhook_bot(make_bot)
    ana = emu.add_user("Ana", language_code="es")
    await ask(emu, ana, "/start")
    health_url = f"http://127.0.0.1:{port}/health"
    async with aiohttp.ClientSession() as http, http.get(health_url) as ok:
        assert ok.status == 200
        body = await ok.json()
        assert body["database"] is True and body["sender_alive"] is True
        assert body["problems"] == []
    if stuck:
        await service.sender.stop()
        async with service.db.transaction() as session:
            await outbox.enqueue(session, "stuck", "test", [
                outbox.Outgoing(chat_id=ana.id, text="never sent")], service.clock.now())
            await session.execute(update(OutboxRow).values(
                next_attempt_at=service.clock.now() - timedelta(minutes=10)))
    async with aiohttp.ClientSession() as http, http.get(health_url) as answer:
        body = await answer.json()
        if stuck:
            assert answer.status == 503
            assert set(body["problems"]) == {"outbox_stuck", "sender_stopped"}
            assert body["oldest_queued_s"] >= 600
        else:
            assert answer.status == 200
    env = {**os.environ, "DATABASE_URL": database_url, "TELEGRAM_BOT_TOKEN": ""}
    done = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "bot.cli", "status"], capture_output=True, text=True, env=env,
        cwd=ROOT, timeout=60)
    assert done.returncode == (1 if stuck else 0), done.stderr
    lines = done.stdout.splitlines()
    assert lines[1] == ("health: outbox_stuck" if stuck else "health: ok")
    assert ("outbox by state: queued=1" in done.stdout) is stuck
    assert "next scheduled:" in done.stdout and "maintenance.purge" in done.stdout
    assert "pending registrations: 0" in done.stdout

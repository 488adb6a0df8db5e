"""Secrets: the suite runs at LOG_LEVEL=DEBUG with every logger captured (conftest.py checks every
test's lines). This test makes the check explicit for a bot process in webhook mode with a
generated secret: updates, a refused forged POST, a fan-out with faults, a restart."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from sqlalchemy import select

from bot.db.engine import Database
from bot.db.models import BotState
from bot.emulator import Emulator
from tests.conftest import TOKEN
from tests.process import BotProcess
from tests.reliability.conftest import secret_forms
from tests.reliability.support import debug_env, free_port


async def test_no_token_or_webhook_secret_in_any_debug_line(emu: Emulator,
                                                            empty_database_url: str,
                                                            tmp_path: Path, seed: int,
                                                            hidden: list[str], report) -> None:
    port = free_port()
    env = debug_env(emu, empty_database_url, WEBHOOK_URL=f"http://127.0.0.1:{port}/tg/hook",
                    WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port))
    process = await BotProcess(env, tmp_path).start()
    ana = emu.add_user("Ana", language_code="es")
    sent = emu.send(ana, "/start")
    await emu.wait_for_bot_message(emu.private_chat(ana), after=sent, timeout=60)
    db = Database(empty_database_url)
    try:
        async with db.sessions() as session:
            secret = (await session.execute(select(BotState.value).where(
                BotState.key == "webhook_secret"))).scalar_one()
    finally:
        await db.dispose()
    hidden.append(secret)
    async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{port}/tg/hook", json={"update_id": 1},
            headers={"X-Telegram-Bot-Api-Secret-Token": secret[:-1]}) as refused:
        assert refused.status == 403
    emu.faults.add("500", rate=0.5, seed=seed)
    sent = emu.send(ana, "/help")
    await emu.wait_for_bot_message(emu.private_chat(ana), after=sent, timeout=60)
    emu.faults.clear()
    assert await process.terminate() == 0
    first = process.stderr.decode(errors="replace")
    process = await BotProcess(env, tmp_path).start()  # a restart registers the secret again
    sent = emu.send(ana, "/help")
    await emu.wait_for_bot_message(emu.private_chat(ana), after=sent, timeout=60)
    assert await process.terminate() == 0
    output = first + process.stderr.decode(errors="replace")
    debug_lines = [line for line in output.splitlines() if " DEBUG " in line]
    assert debug_lines, "the process really logged at DEBUG"
    assert emu.world.webhook.secret_token == secret
    leaked = [f for f in secret_forms([secret]) if f in output]
    report(process_log_lines=len(output.splitlines()), debug_lines=len(debug_lines),
           leaked=len(leaked), token_checked=TOKEN[:3] + "…")
    assert leaked == []

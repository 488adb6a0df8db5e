"""`coalition-bot run` pointed at `coalition-bot emulator`, both as real processes, driven over
the emulator's HTTP control API: /start, /help and /language in Spanish and English, in a
private chat and in a group."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx

from tests.process import BotProcess

TOKEN = "123456789:AAEmulatorTokenForLocalTesting_0001"  # the emulator command's default


async def start_emulator(tmp_path: Path) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "emulator", cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    info: dict[str, str] = {}
    while len(info) < 4:
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert line, "the emulator exited before printing its URLs"
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return proc, info


async def test_run_command_answers_through_the_emulator_command(tmp_path: Path) -> None:
    emulator, info = await start_emulator(tmp_path)
    assert info["token"] == TOKEN
    control = info["control URL"]
    env = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_BOT_TOKEN": info["token"],
        "TELEGRAM_API_BASE_URL": info["base URL"],
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "CLOCK_URL": f"{control}/clock",
        "POLL_TIMEOUT": "1",
    }
    bot = await BotProcess(env, tmp_path).start("run")
    try:
        async with httpx.AsyncClient(base_url=control, timeout=30) as http:

            async def call(verb: str, **body: object) -> dict:
                response = await http.post(f"/{verb}", json=body)
                assert response.status_code == 200, response.text
                return response.json()["result"]

            async def say(user: dict, text: str, chat: int | None = None) -> dict:
                sent = await call("send", user=user["id"], text=text, chat=chat)
                return await call("wait_bot_message", chat=chat or user["id"],
                                  after=sent["message_id"], timeout=20)

            ana = await call("add_user", first_name="Ana", language_code="es")
            john = await call("add_user", first_name="John", language_code="en")
            assert "Soy el bot de la coalición" in (await say(ana, "/start"))["text"]
            assert "I am the coalition's bot" in (await say(john, "/start"))["text"]
            assert "Qué hace este bot" in (await say(ana, "/help"))["text"]
            assert "What this bot does" in (await say(john, "/help"))["text"]
            menu = await say(ana, "/language")
            labels = [b["text"] for row in menu["buttons"] for b in row]
            assert labels == ["Español", "English", "Español + English"]
            await call("press", user=ana["id"], chat=ana["id"], message_id=menu["message_id"],
                       label="English")
            done = await call("wait_bot_message", chat=ana["id"], after=menu["message_id"],
                              timeout=20)
            assert done["text"] == "Done: this chat will now get messages in English."

            group = await call("add_group", title="Red Oaxaca", members=[john["id"]],
                               admins=[ana["id"]])
            await call("add_bot", chat=group["id"], by=ana["id"])
            hello = await say(ana, "/start@coalition_test_bot", chat=group["id"])
            assert "En este grupo publico alertas" in hello["text"]
            switched = await say(ana, "/language en", chat=group["id"])
            assert switched["text"] == "Done: this chat will now get messages in English."
            helped = await say(john, "/help", chat=group["id"])
            assert "only the group's admins" in helped["text"]
            violations = (await http.get("/violations")).json()
            assert violations == []
    finally:
        assert await bot.terminate() == 0, bot.stderr.decode()[-2000:]
        emulator.terminate()
        await emulator.wait()

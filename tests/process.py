"""Run `coalition-bot` as a real process against the in-test emulator (for kills and logs)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent


def bot_env(emu: Emulator, database_url: str, token: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "DATABASE_", "COORDINATOR", "LOG_", "CLOCK_"))}
    env.update({
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": emu.base_url,
        "DATABASE_URL": database_url,
        "CLOCK_URL": f"{emu.control_url}/clock",
        "POLL_TIMEOUT": "1",
        "SWEEP_INTERVAL": "0.2",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


class BotProcess:
    """`python -m bot run` in a subprocess, with its stderr kept for the test to read."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path = cwd / f"bot-{id(self)}.log"

    @property
    def stderr(self) -> bytes:
        """Everything the process printed (a file, so a chatty process never blocks on a pipe)."""
        return self.log_path.read_bytes() if self.log_path.exists() else b""

    async def start(self, *args: str) -> BotProcess:
        with self.log_path.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *(args or ("run",)), env=self.env, cwd=self.cwd,
                stdout=out, stderr=out,
            )
        return self

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self._collect()

    async def terminate(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self._collect()

    async def wait(self, timeout: float = 30) -> int:
        return await asyncio.wait_for(self._collect(), timeout)

    async def _collect(self) -> int:
        assert self.proc is not None
        return await self.proc.wait()

"""Shared pieces of the reliability tests: a test task kind that fans out, database figures,
and the environment of a bot subprocess at DEBUG."""

from __future__ import annotations

import socket
from datetime import timedelta

from sqlalchemy import func, select

from bot.db.engine import Database
from bot.db.models import OutboxRow, SavedUpdate, ScheduledTask
from bot.delivery import outbox
from bot.emulator import Emulator
from bot.runtime import Runtime
from bot.scheduler import Due, TaskKind, schedule
from tests.conftest import TOKEN
from tests.process import bot_env

WAVE = "reliability.wave"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wave_kind(rt: Runtime) -> TaskKind:
    """A scheduled row that fans out a reminder to the chats in its payload (a "wave of
    reminders" made of scheduled rows, as actions' reminders are)."""

    async def run(due: Due) -> None:
        async with rt.db.transaction() as session:
            await outbox.enqueue(session, f"wave:{due.id}", "reminder", [
                outbox.Outgoing(chat_id=c, text=f"{due.payload['text']} #{due.id}")
                for c in due.payload["chats"]], due.now)
        rt.wake_sender()

    return TaskKind(WAVE, run)


async def schedule_waves(db: Database, now_dt, chats: list[int], count: int, text: str,
                         every_s: float = 1.0) -> None:
    async with db.transaction() as session:
        for i in range(count):
            await schedule(session, WAVE, now_dt + timedelta(seconds=every_s * i),
                           {"chats": chats, "text": text}, dedupe_key=f"{text}:{i}")


async def table_counts(db: Database) -> dict[str, dict[str, int]]:
    """Rows by state in the three queues: updates, outbox, scheduled."""
    found: dict[str, dict[str, int]] = {}
    async with db.sessions() as session:
        for name, column in (("updates", SavedUpdate.status), ("outbox", OutboxRow.state),
                             ("scheduled", ScheduledTask.status)):
            rows = (await session.execute(select(column, func.count()).group_by(column))).all()
            found[name] = {str(k): int(v) for k, v in rows}
    return found


def debug_env(emu: Emulator, database_url: str, **extra: str) -> dict[str, str]:
    return bot_env(emu, database_url, TOKEN, LOG_LEVEL="DEBUG", **extra)

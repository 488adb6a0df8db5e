"""Fixtures: the emulator, a fresh database (SQLite file, or PostgreSQL), and the real bot.

The whole suite runs once per database: SQLite by default, PostgreSQL when TEST_DATABASE_URL is
set (the Makefile's `test` target does both). With CI or TEST_DATABASE_URL set, an unreachable
PostgreSQL fails the run: it is never skipped.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest

from bot.app import BotService
from bot.clock import CallableClock
from bot.config import Settings
from bot.emulator import Emulator

TOKEN = "123456789:AAEmulatorTestTokenForCoalitionBot01"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (temporary files)'}"


def pytest_sessionstart(session: pytest.Session) -> None:
    if not PG_URL:
        if os.environ.get("CI"):
            pass  # CI runs the suite a second time with TEST_DATABASE_URL set
        return

    async def check() -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(PG_URL), timeout=5)
        await conn.close()

    try:
        asyncio.run(check())
    except Exception as exc:
        pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}", returncode=3)


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    if not PG_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'coalition.db'}"
        return
    name = f"cbtest_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def clock_start() -> datetime | None:
    """Where the emulator's clock (and so the bot's) starts: now. A test module whose dates must
    not depend on today's date overrides this fixture with a fixed moment."""
    return None


@pytest.fixture
async def emu(clock_start: datetime | None) -> AsyncIterator[Emulator]:
    emulator = Emulator(token=TOKEN, bot_username="coalition_test_bot",
                        clock_start=None if clock_start is None else clock_start.timestamp())
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert emulator.violations == [], f"strict Bot API violations: {emulator.violations}"


def make_settings(emu: Emulator, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_base_url": emu.base_url,
        "database_url": database_url,
        "coordinator_ids": (),
        "default_language": "es",
        "timezone": "America/Mexico_City",
        "log_level": "INFO",
        "sweep_interval": 0.2,
        "poll_timeout": 1,
        "clock_url": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


BotFactory = Callable[..., Awaitable[BotService]]


@pytest.fixture
async def make_bot(emu: Emulator, database_url: str) -> AsyncIterator[BotFactory]:
    """Start the real bot against the emulator; call again after `stop()` to restart it."""
    started: list[BotService] = []

    async def factory(**overrides: object) -> BotService:
        extra_kinds = overrides.pop("extra_kinds", ())
        overrides.pop("clock_scale", None)  # the bot's clock always follows the emulator's scale
        service_options = {k: overrides.pop(k) for k in ("read_timeout", "send_concurrency")
                           if k in overrides}
        clock = CallableClock(emu.clock.now, scale=lambda: emu.clock.scale)
        service = BotService(make_settings(emu, database_url, **overrides), clock=clock,
                             extra_kinds=extra_kinds, **service_options)
        await service.start()
        started.append(service)
        return service

    yield factory
    for service in started:
        await service.stop()


@pytest.fixture
async def bot(make_bot: BotFactory) -> BotService:
    return await make_bot()

"""Fixtures: the emulator, a fresh database (SQLite file, or PostgreSQL), and the real bot.

The whole suite runs once per database: SQLite by default, PostgreSQL when TEST_DATABASE_URL is
set (the Makefile's `test` target does both). With CI or TEST_DATABASE_URL set, an unreachable
PostgreSQL fails the run: it is never skipped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest

from bot.app import BotService
from bot.clock import CallableClock
from bot.config import Settings
from bot.db.engine import Database
from bot.db.migrate import upgrade_database
from bot.emulator import Emulator

TOKEN = "123456789:AAEmulatorTestTokenForCoalitionBot01"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def pytest_configure(config: pytest.Config) -> None:
    # Registered here rather than in pyproject.toml, whose every byte the lock's check hashes.
    config.addinivalue_line(
        "markers", "late_answers: the test overloads the bot on purpose, so a press may be "
        "answered after Telegram's query timeout (counted in its report, not failed)")


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


async def _admin(sql: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


def _pg_url(name: str) -> str:
    return f"{PG_URL.rsplit('/', 1)[0]}/{name}"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database migrated to the newest revision, made once per test process (each xdist
    worker has its own): every test's database is a copy of it, so that no test pays for the
    thirteen migrations (about 0.3 s each time). On SQLite a file, on PostgreSQL a template."""
    if not PG_URL:
        path = tmp_path_factory.mktemp("template") / "coalition.db"
        asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
        yield str(path)
        return
    name = f"cbtpl_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(_migrate(_pg_url(name)))
        yield name
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade_database(db)
    finally:
        await db.dispose()


@pytest.fixture
async def empty_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database with no tables at all, for the tests of migrating one."""
    if not PG_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'coalition.db'}"
        return
    name = f"cbtest_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database_url(tmp_path: Path, migrated_template: str) -> AsyncIterator[str]:
    """A fresh database for one test, already at the newest revision (a copy of the template:
    the bot's start-up upgrade then finds nothing to do)."""
    if not PG_URL:
        path = tmp_path / "coalition.db"
        path.touch(mode=0o600)  # owner-only, as the bot makes its own (no warning at start)
        shutil.copyfile(migrated_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"cbtest_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    yield _pg_url(name)
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock_start() -> datetime | None:
    """Where the emulator's clock (and so the bot's) starts: now. A test module whose dates must
    not depend on today's date overrides this fixture with a fixed moment."""
    return None


# Every emulated person's default last name, and part of the helpers' organisation and group names
# (tests/alert_helpers.py, org_helpers.py): what a hostile or simply real name holds (issue 21,
# item 7). Unescaped it breaks Telegram's HTML parsing, which the teardown below catches.
HOSTILE_LAST_NAME = "<Ruiz> & Co\u200f"


@pytest.fixture
async def emu(request: pytest.FixtureRequest,
              clock_start: datetime | None) -> AsyncIterator[Emulator]:
    """The emulator, with Telegram's overall limit of 30 sends a second always on.

    Its per-chat and per-group limits (a private chat's burst then 1 a second, a group's 20 a
    minute) apply only to tests marked `telegram_limits`: the pacer's, delivery's and the
    reliability suite's, which check the bot keeps them. Elsewhere a coordinator's thirty-reply
    conversation would cost thirty real seconds and check nothing more; the bot's pacer is told
    the same (`make_bot` follows `emu.chat_limits`).
    """
    emulator = Emulator(token=TOKEN, bot_username="coalition_test_bot",
                        default_last_name=HOSTILE_LAST_NAME,
                        chat_limits=request.node.get_closest_marker("telegram_limits") is not None,
                        clock_start=None if clock_start is None else clock_start.timestamp())
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert emulator.violations == [], f"strict Bot API violations: {emulator.violations}"
    if request.node.get_closest_marker("expects_errors") is None:
        assert emulator.parse_errors == [], (
            f"Telegram could not parse {len(emulator.parse_errors)} message(s): user text reached "
            f"HTML unescaped ({emulator.parse_errors[:3]})")
        wasted = emulator.wasted_requests
        if request.node.get_closest_marker("late_answers") is not None:
            wasted = [w for w in wasted if not w.startswith("query is too old")]
        assert wasted == [], (
            f"Telegram refused {len(wasted)} request(s) that changed nothing or came too "
            f"late: {wasted[:3]}")


class ErrorRecords(logging.Handler):
    """Every ERROR (or worse) logged in this process during one test."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_error_logged(request: pytest.FixtureRequest) -> Iterator[ErrorRecords]:
    """A test ends with no ERROR in the log, unless it is marked `expects_errors` (it injects a
    fault that the bot rightly logs as one). An ERROR nobody expected is a handler that crashed
    on something a person did, which they saw as silence."""
    found = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(found)
    try:
        yield found
    finally:
        root.removeHandler(found)
    if request.node.get_closest_marker("expects_errors") is None:
        lines = [f"{r.name}: {r.getMessage()[:160]}" for r in found.records]
        assert lines == [], f"the bot logged {len(lines)} ERROR line(s): {lines[:5]}"


def make_settings(emu: Emulator, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_base_url": emu.base_url,
        "database_url": database_url,
        "coordinator_ids": (),
        "default_language": "es",
        "timezone": "America/Mexico_City",
        "log_level": "INFO",
        "sweep_interval": 0.5,
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
        url = str(overrides.pop("database_url", database_url))  # a test's own file, say
        service = BotService(make_settings(emu, url, **overrides), clock=clock,
                             extra_kinds=extra_kinds, chat_limits=emu.chat_limits,
                             **service_options)
        await service.start()
        started.append(service)
        emu.clock.on_change(service.sweep_soon)  # a moved clock is swept at once
        return service

    yield factory
    for service in started:
        await service.stop()


@pytest.fixture
async def bot(make_bot: BotFactory) -> BotService:
    return await make_bot()

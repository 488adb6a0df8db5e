"""The reliability suite: every test here is marked `reliability` (deselected by default; `make
reliability` and `make test` run it on SQLite, then PostgreSQL).

The whole suite runs at DEBUG with every logger captured (the root logger, and the bot
subprocesses' own logs in each test's tmp_path): after each test no line holds the bot token (any
form) or a webhook secret. Each test takes a fixed `seed` (printed; RELIABILITY_SEED overrides
it) and may `report(...)` figures, which are printed at the end of the run and appended to
RELIABILITY_FIGURES (default: coalition-reliability.jsonl in the temporary folder) for the
README's "Reliability" section.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.logs import add_secrets, cap_noisy_loggers
from tests.conftest import PG_URL, TOKEN

HERE = Path(__file__).resolve().parent
SEED = int(os.environ.get("RELIABILITY_SEED", "20261125"))
DATABASE = "PostgreSQL" if PG_URL else "SQLite"
FIGURES = Path(os.environ.get("RELIABILITY_FIGURES",
                              Path(tempfile.gettempdir()) / "coalition-reliability.jsonl"))
_reported: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder, before `-m` selects (tryfirst). They play Telegram's
    per-chat and per-group limits in full (the emulator and the bot's pacer), but for two whose
    subject is not delivery: the SQLite writers' test loads the database (twenty people each
    receiving eighty notes at one a second would spend eighty seconds draining their queues after
    its sixty), and the random update sequences test what handlers do with any input (a group's
    twenty replies a minute would spend most of its time waiting)."""
    unlimited = {"test_sqlite_writers.py", "test_random_updates.py"}
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.reliability)
            if Path(str(item.path)).name not in unlimited:
                item.add_marker(pytest.mark.telegram_limits)


class Capture(logging.Handler):
    """Every record of every logger, formatted with its traceback, as a log file holds them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot format still counts as captured
            self.lines.append(f"unformattable {record.name} {record.msg!r}")


_capture = Capture()


@pytest.fixture(scope="session", autouse=True)
def debug_logging() -> Iterator[Capture]:
    """What `coalition-bot run` does at LOG_LEVEL=DEBUG (bot/logs.setup_logging with the
    configured token), with a capturing handler on the root logger. A generated webhook secret
    is registered nowhere: that it never appears is what the check proves."""
    root = logging.getLogger()
    previous = root.level
    add_secrets([TOKEN])
    root.setLevel(logging.DEBUG)
    root.addHandler(_capture)
    cap_noisy_loggers()
    os.environ["LOG_LEVEL"] = "DEBUG"  # read by tests that start bot subprocesses (bot_env)
    yield _capture
    root.removeHandler(_capture)
    root.setLevel(previous)


def forms(secret: str) -> set[str]:
    return {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote(secret)}


def secret_forms(extra: list[str]) -> set[str]:
    found = forms(TOKEN) | {TOKEN.split(":", 1)[1]}
    for secret in extra:
        if secret:
            found |= forms(secret)
    return found


@pytest.fixture
def hidden() -> list[str]:
    """Secrets a test made (a webhook secret) that must appear in no log line."""
    return []


@pytest.fixture(autouse=True)
def no_secret_in_any_log(request: pytest.FixtureRequest, tmp_path: Path,
                         hidden: list[str]) -> Iterator[None]:
    start = len(_capture.lines)
    yield
    emu = request.node.funcargs.get("emu")
    webhook = getattr(getattr(emu, "world", None), "webhook", None)
    secrets = [*hidden, getattr(webhook, "secret_token", None) or ""]
    lines = _capture.lines[start:]
    for path in tmp_path.rglob("*.log"):
        lines += path.read_text(errors="replace").splitlines()
    leaked = [line[:120] for line in lines if any(s in line for s in secret_forms(secrets))]
    assert not leaked, f"a secret was logged: {leaked[:3]}"
    debug = sum(1 for line in lines if " DEBUG " in line)
    print(f"log lines checked: {len(lines)} ({debug} at DEBUG), no token or webhook secret")


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    print(f"seed={SEED}")
    _reported.append(f"{request.node.name}: seed={SEED}")
    return SEED


Report = Callable[..., None]


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Report:
    """Record a test's figures: printed now and at the end, and kept for the README."""

    def add(**figures: object) -> None:
        line = " ".join(f"{k}={v}" for k, v in figures.items())
        print(line)
        _reported.append(f"{request.node.name} [{DATABASE}]: {line}")
        with FIGURES.open("a") as out:
            out.write(json.dumps({"test": request.node.name, "database": DATABASE,
                                  "seed": SEED, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                    time.gmtime()),
                                  **figures}, default=str) + "\n")

    return add


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _reported:
        terminalreporter.section(f"reliability figures ({DATABASE})")
        for line in _reported:
            terminalreporter.write_line(line)


@pytest.fixture
async def bot_on(emu):  # type: ignore[no-untyped-def]
    """Like `make_bot`, with the database URL given (a proxy in front of the test database)."""
    from bot.app import BotService
    from bot.clock import CallableClock
    from tests.conftest import make_settings

    started: list[BotService] = []

    async def factory(url: str, extra_kinds=(), send_concurrency=None, **overrides):  # type: ignore[no-untyped-def]
        clock = CallableClock(emu.clock.now, scale=lambda: emu.clock.scale)
        overrides.setdefault("sweep_interval", 0.2)  # as they were measured: fault rates, failover
        service = BotService(make_settings(emu, url, **overrides), clock=clock,
                             extra_kinds=extra_kinds, send_concurrency=send_concurrency,
                             chat_limits=emu.chat_limits)
        await service.start()
        started.append(service)
        return service

    yield factory
    for service in started:
        await service.stop()


@pytest.fixture
async def db_proxy(database_url: str):  # type: ignore[no-untyped-def]
    """PostgreSQL: a TCP proxy in front of the test database and the URL through it (request it
    before `bot_on`, so it stops after the bots); SQLite: None and the URL itself."""
    from urllib.parse import urlsplit

    from tests.reliability.proxies import TcpProxy

    if not PG_URL:
        yield None, database_url
        return
    parts = urlsplit(database_url)
    proxy = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    yield proxy, database_url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")
    await proxy.stop()

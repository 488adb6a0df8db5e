"""The async engine and sessions, with SQLite made fit for concurrent async writers.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys, `secure_delete` (erased
rows leave no bytes behind, rule Q), and every transaction opened with `BEGIN IMMEDIATE` so a
writer takes the lock at its start instead of failing with "database is locked" when it upgrades a
read lock midway. `synchronous=NORMAL` in WAL mode survives any crash of the process (not a power
cut of the machine, which would lose at most the last transactions).
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event decide when a transaction starts (pysqlite otherwise defers).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        f"PRAGMA busy_timeout={SQLITE_BUSY_MS}",
        "PRAGMA foreign_keys=ON",
        "PRAGMA secure_delete=ON",
        "PRAGMA synchronous=NORMAL",
    ):
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_read(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


log = logging.getLogger(__name__)
OWNER_ONLY_FILE, OWNER_ONLY_DIR = 0o600, 0o700
_warned: set[str] = set()


def owner_only(path: Path) -> None:
    """The SQLite file and its folder readable by the bot's user alone (issue 21, item 15): a
    database names members, some at risk, and another account on the host must not read it.
    A new folder is made 0700 and a new file 0600 (SQLite gives its -wal and -shm files the
    database file's mode); an existing one that others can read is tightened, with one warning."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=OWNER_ONLY_DIR, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, OWNER_ONLY_FILE))
    targets = [(path, OWNER_ONLY_FILE)] + [
        (Path(f"{path}{suffix}"), OWNER_ONLY_FILE) for suffix in ("-wal", "-shm", "-journal")]
    if folder.resolve() != Path.cwd().resolve() and folder.resolve().parent != folder.resolve():
        targets.append((folder, OWNER_ONLY_DIR))  # its own folder (`data/`), never ./ or /
    for target, mode in targets:
        try:
            current = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            continue
        if current & 0o077:
            try:
                target.chmod(current & ~0o077 & 0o7777 | (mode & 0o700))
            except OSError:
                if str(target) not in _warned:
                    _warned.add(str(target))
                    log.warning("db.permissions_open mode=%o", current)
                continue
            if str(target) not in _warned:
                _warned.add(str(target))
                log.warning("db.permissions_tightened mode=%o", current)


class DatabaseReplaced(RuntimeError):
    """The SQLite file was deleted or replaced while the bot ran (issue 21, item 14)."""


def sqlite_path(url: str) -> Path | None:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def file_identity(path: Path) -> tuple[int, int] | None:
    """Which file a path names now (device, inode); None when there is none."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _same_file(path: Path, identity: tuple[int, int] | None) -> Any:
    """A connect hook refusing a new connection when the path no longer names the file the bot
    started on: a file put in its place (or a new one SQLite would create) gets no write."""

    def check(_dbapi_connection: Any, _record: Any) -> None:
        if file_identity(path) != identity:
            raise DatabaseReplaced("database_replaced")

    return check


def make_engine(url: str, read_only: bool = False, **kwargs: Any) -> AsyncEngine:
    """Create the engine; for SQLite also the folder of its file and the pragmas above.

    `read_only` (SQLite): transactions start deferred, so reads never wait for the write lock
    (WAL lets them read beside the writer). Only for sessions that do not write.
    """
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        identity = None
        if path is not None:
            if not read_only:  # the writer's engine is made first and makes the file
                owner_only(path)
            identity = file_identity(path)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000}, **kwargs)
        if path is not None:
            event.listen(engine.sync_engine, "connect", _same_file(path, identity))
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin",
                     _sqlite_begin_read if read_only else _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_async_engine(url, **kwargs)


class Database:
    """The engine and a session factory; services receive sessions from here."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_engine = (make_engine(url, read_only=True, **engine_kwargs)
                             if url.startswith("sqlite") else self.engine)
        self._readers = async_sessionmaker(self._read_engine, expire_on_commit=False)
        self._path = sqlite_path(url) if url.startswith("sqlite") else None
        self._identity = file_identity(self._path) if self._path is not None else None

    def replaced(self) -> bool:
        """Whether the SQLite file was deleted or replaced since the bot opened it: the open
        connections still write to the old one, which nobody will find after a restart."""
        return self._path is not None and file_identity(self._path) != self._identity

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: on SQLite it never takes the write lock."""
        async with self._readers() as session:
            yield session

    async def checkpoint(self, attempts: int = 20) -> bool:
        """SQLite: copy the WAL into the database file and truncate the WAL to nothing.

        Why: after an erasure the WAL still holds the old pages (the erased names) until a
        checkpoint; `secure_delete` zeroes only the main file. A reader holding an old snapshot
        makes the checkpoint busy, so it is retried briefly. PostgreSQL: nothing to do.
        """
        if not self.is_sqlite:
            return True
        for _ in range(attempts):
            async with self.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy, _log, _done = await cursor.fetchone()
                await cursor.close()
            if not busy:
                return True
            await asyncio.sleep(0.05)
        return False

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()

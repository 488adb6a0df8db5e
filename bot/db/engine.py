"""The async engine and sessions, with SQLite made fit for concurrent async writers.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys, `secure_delete` (erased
rows leave no bytes behind, rule Q), and every transaction opened with `BEGIN IMMEDIATE` so a
writer takes the lock at its start instead of failing with "database is locked" when it upgrades a
read lock midway. `synchronous=NORMAL` in WAL mode survives any crash of the process (not a power
cut of the machine, which would lose at most the last transactions).
"""

from __future__ import annotations

import asyncio
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


def make_engine(url: str, read_only: bool = False, **kwargs: Any) -> AsyncEngine:
    """Create the engine; for SQLite also the folder of its file and the pragmas above.

    `read_only` (SQLite): transactions start deferred, so reads never wait for the write lock
    (WAL lets them read beside the writer). Only for sessions that do not write.
    """
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000}, **kwargs)
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

"""Apply the Alembic migrations at start, under a lock, so two instances never migrate at once.

PostgreSQL: a session-level advisory lock held on the migrating connection. SQLite: an exclusive
file lock beside the database file (SQLite has a single writer anyway; the lock keeps a second
process from running half-applied migrations).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

import migrations
from bot.db.engine import Database

log = logging.getLogger(__name__)
ADVISORY_KEY = 0x636F616C  # "coal": one fixed key for this application's migration lock


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return cfg


def _upgrade(connection: Connection, cfg: Config) -> None:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "heads")


def _current(connection: Connection) -> str:
    return ",".join(sorted(MigrationContext.configure(connection).get_current_heads()))


@lru_cache(maxsize=1)
def newest() -> str:
    """The head revision(s) of the code, read once per process: Alembic compiles every migration
    script each time it loads them, which a start that finds the schema current need not pay."""
    return ",".join(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


async def upgrade_database(db: Database) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    async with db.engine.connect() as conn:
        current = await conn.run_sync(_current)
    if current == newest():
        log.info("db.migrated revision=%s", current)
        return
    cfg = alembic_config()
    if db.is_sqlite:
        path = db.url.split(":///", 1)[1]
        lock_path = Path(path + ".migrate.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only, as the database beside it (bot/db/engine.owner_only).
        fd = os.open(lock_path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "a") as handle:
            await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
            try:
                async with db.engine.connect() as conn:
                    await conn.run_sync(_upgrade, cfg)
                    await conn.commit()
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    else:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_KEY})
            await conn.commit()
            try:
                await conn.run_sync(_upgrade, cfg)
                await conn.commit()
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                await conn.commit()
    async with db.engine.connect() as conn:
        revision = await conn.run_sync(_current)
    log.info("db.migrated revision=%s", revision)

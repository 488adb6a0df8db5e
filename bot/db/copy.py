"""Move a deployment from SQLite to PostgreSQL: copy every row, ids and times intact.

Why a copy through SQLAlchemy's tables and not a dump: both databases are made by the same
Alembic migrations, so the models describe both; reading with the models' types and writing with
them converts what differs (booleans, JSON, times stored as UTC) without hand-written SQL. The
copy is one transaction on the target: it lands whole or not at all. Sequences are moved past the
copied ids so new rows do not collide.
"""

from __future__ import annotations

import logging

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import Database
from bot.db.migrate import upgrade_database
from bot.db.models import Base

log = logging.getLogger(__name__)
BATCH = 1000


class CopyError(Exception):
    """Why the copy cannot start (shown to the admin as one line)."""


async def _counts(db: Database) -> dict[str, int]:
    counts = {}
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = int((await conn.execute(
                select(func.count()).select_from(table))).scalar_one())
    return counts


async def copy_database(source_url: str, target_url: str, *, dry_run: bool = False
                        ) -> dict[str, int]:
    """Copy `source_url` (SQLite) into `target_url` (an empty PostgreSQL database); rows per table.

    The bot must be stopped while it runs (the source must not change under the copy).
    """
    if not source_url.startswith("sqlite"):
        raise CopyError("DATABASE_URL must be the SQLite database to copy from")
    if not target_url.startswith("postgresql"):
        raise CopyError("the target must be a postgresql+asyncpg://... URL")
    source, target = Database(source_url), Database(target_url)
    try:
        await upgrade_database(source)
        counts = await _counts(source)
        if dry_run:
            return counts
        try:
            await upgrade_database(target)
        except OSError as exc:
            raise CopyError(f"cannot reach the PostgreSQL database: {exc}") from None
        existing = {t: n for t, n in (await _counts(target)).items() if n}
        if existing:
            raise CopyError(f"the target database is not empty ({', '.join(sorted(existing))}): "
                            "create a new, empty database for the copy")
        async with source.engine.connect() as reading, target.engine.begin() as writing:
            for table in Base.metadata.sorted_tables:
                rows = await reading.stream(select(table))
                async for batch in rows.partitions(BATCH):
                    await writing.execute(insert(table), [dict(r._mapping) for r in batch])
                await _move_sequence(writing, table)
                log.info("copy.table_done table=%s rows=%d", table.name, counts[table.name])
        copied = await _counts(target)
        if copied != counts:
            raise CopyError(f"row counts differ after the copy: {copied} != {counts}")
        return counts
    finally:
        await source.dispose()
        await target.dispose()


async def _move_sequence(conn: AsyncConnection, table: Table) -> None:
    """Set an autoincrementing id's sequence to the largest copied id."""
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or pk[0].autoincrement is not True:
        return
    name, column = table.name, pk[0].name
    await conn.execute(text(
        f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
        f"COALESCE((SELECT MAX({column}) FROM {name}), 1), "
        f"(SELECT MAX({column}) FROM {name}) IS NOT NULL)"))

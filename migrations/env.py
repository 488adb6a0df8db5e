"""Alembic environment: async engine, batch mode on SQLite, and connection sharing.

`bot.db.migrate` runs migrations in-process on a connection it already holds (under the migration
lock) and passes it in `config.attributes["connection"]`; the `alembic` command line instead makes
its own engine from DATABASE_URL.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.db.models import Base

target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    from bot.config import load_settings
    from bot.db.engine import make_engine

    engine = make_engine(load_settings().database_url)
    async with engine.connect() as connection:
        await connection.run_sync(_configure_and_run)
        await connection.commit()
    await engine.dispose()


def run_migrations_online() -> None:
    shared = context.config.attributes.get("connection")
    if shared is not None:
        _configure_and_run(shared)
    else:
        asyncio.run(_run_with_own_engine())


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()

"""The migrations build exactly the schema the models describe, so autogenerate has nothing left."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.db.engine import Database
from bot.db.migrate import alembic_config, upgrade_database
from bot.db.models import Base


async def test_migrated_schema_matches_models(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        await upgrade_database(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        await db.dispose()


async def test_history_has_one_head_and_the_database_reaches_it(empty_database_url: str) -> None:
    """Capabilities built side by side fork the history; a merge keeps a single head, so a
    deployment's `alembic upgrade head` and the next migration's parent are never ambiguous."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migration history has several heads: {sorted(heads)}"
    db = Database(empty_database_url)
    try:
        await upgrade_database(db)
        async with db.engine.connect() as conn:
            current = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads())
        assert tuple(current) == tuple(heads)
    finally:
        await db.dispose()

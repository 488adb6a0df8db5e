"""The migrations build exactly the schema the models describe, so autogenerate has nothing left."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.db.engine import Database
from bot.db.migrate import upgrade_database
from bot.db.models import Base


async def test_migrated_schema_matches_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade_database(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        await db.dispose()

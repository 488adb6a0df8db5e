"""Autogenerate the next Alembic revision against a scratch SQLite database brought to head.

    .venv/bin/python tools/new_migration.py 0003 "what changes"
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command

from bot.db.engine import Database
from bot.db.migrate import alembic_config, upgrade_database


async def main(rev_id: str, message: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'scratch.db'}")
        await upgrade_database(db)

        def generate(connection: object) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)

        async with db.engine.connect() as conn:
            await conn.run_sync(generate)
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))

"""Database: models, the async engine and sessions, and migrations at start."""

from sqlalchemy.ext.asyncio import AsyncSession as Session

from bot.db.engine import Database

__all__ = ["Database", "Session"]

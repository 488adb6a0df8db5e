"""Database: models, the async engine and sessions, and migrations at start."""

from bot.db.engine import Database

__all__ = ["Database"]

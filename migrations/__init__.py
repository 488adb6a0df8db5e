"""Alembic migrations: the only way the schema is made or changed (SQLite and PostgreSQL)."""

"""merge the capability branches into one head

The capabilities were built side by side, each on top of member safety (0005), so the history
forked into six heads. One head lets `alembic upgrade head` (singular) and every later migration
have a single parent again; it changes no table.

Revision ID: 0013
Revises: 0007, 0008, 0009, 0010, 0011, 0012
Create Date: 2026-11-26 00:05:00
"""

from collections.abc import Sequence

revision: str = "0013"
down_revision: str | Sequence[str] | None = ("0007", "0008", "0009", "0010", "0011", "0012")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the merge only joins the branches."""


def downgrade() -> None:
    """Nothing to undo."""

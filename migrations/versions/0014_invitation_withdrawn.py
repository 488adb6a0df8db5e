"""invitations can be withdrawn by a coordinator (issue 21)

A withdrawn invitation is kept, marked, so that whoever opens its link is told it was withdrawn
rather than that it never existed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("withdrawn_at", bot.db.types.UTCDateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("withdrawn_at")

"""alerts follow-through: approval, corrections, withdrawal, statements and signatures

Revision ID: 0012
Revises: 0006
Create Date: 2026-11-25 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = "0012"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_COLUMNS = (
    ("approved_by", sa.BigInteger()),
    ("corrections", sa.Integer()),
    ("corrected_at", bot.db.types.UTCDateTime(timezone=True)),
    ("withdrawn_at", bot.db.types.UTCDateTime(timezone=True)),
    ("withdraw_reason", sa.Text()),
    ("statement_es", sa.Text()),
    ("statement_en", sa.Text()),
    ("sign_deadline", bot.db.types.UTCDateTime(timezone=True)),
    ("min_signatures", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        for name, type_ in NEW_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.create_table(
        "alert_signatures",
        sa.Column(
            "alert_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("org_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("signer_id", sa.BigInteger(), nullable=True),
        sa.Column("signed_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_signatures_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "org_id", name=op.f("pk_alert_signatures")),
    )


def downgrade() -> None:
    op.drop_table("alert_signatures")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        for name, _ in reversed(NEW_COLUMNS):
            batch_op.drop_column(name)

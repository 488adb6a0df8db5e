"""advocacy actions

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = "0008"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("starts_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("place", sa.String(length=500), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(length=8), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("offsets", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("fanout_id", sa.BigInteger(), nullable=True),
        sa.Column("strangers_erased", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("announced_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index("ix_actions_status_starts", ["status", "starts_at"], unique=False)

    op.create_table(
        "action_targets",
        sa.Column("action_id", PK, autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_targets_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_id", "chat_id", name=op.f("pk_action_targets")),
    )
    with op.batch_alter_table("action_targets", schema=None) as batch_op:
        batch_op.create_index("ix_action_targets_org", ["org_id", "action_id"], unique=False)

    op.create_table(
        "action_rsvps",
        sa.Column("action_id", PK, autoincrement=False, nullable=False),
        sa.Column("org_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("answer", sa.String(length=10), nullable=False),
        sa.Column("answered_by", sa.BigInteger(), nullable=True),
        sa.Column("answered_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_rsvps_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_id", "org_id", name=op.f("pk_action_rsvps")),
    )
    with op.batch_alter_table("action_rsvps", schema=None) as batch_op:
        batch_op.create_index("ix_action_rsvps_org", ["org_id"], unique=False)

    op.create_table(
        "action_strangers",
        sa.Column("action_id", PK, autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("answer", sa.String(length=10), nullable=False),
        sa.Column("pressed_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_strangers_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_id", "user_id", name=op.f("pk_action_strangers")),
    )


def downgrade() -> None:
    op.drop_table("action_strangers")
    with op.batch_alter_table("action_rsvps", schema=None) as batch_op:
        batch_op.drop_index("ix_action_rsvps_org")
    op.drop_table("action_rsvps")
    with op.batch_alter_table("action_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_action_targets_org")
    op.drop_table("action_targets")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_status_starts")
    op.drop_table("actions")

"""polls: polls, their copies per chat, and votes

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-25 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("counting", sa.String(length=8), nullable=False),
        sa.Column("allies_count", sa.Boolean(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fanout_id", sa.BigInteger(), nullable=True),
        sa.Column("reached_orgs", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
    )
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.create_index("ix_polls_status", ["status"], unique=False)

    op.create_table(
        "poll_copies",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("poll_id", PK, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=True),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("tg_poll_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_copies_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_copies")),
        sa.UniqueConstraint("poll_id", "chat_id", name=op.f("uq_poll_copies_poll_id")),
        sa.UniqueConstraint("tg_poll_id", name=op.f("uq_poll_copies_tg_poll_id")),
        sa.UniqueConstraint("token", name=op.f("uq_poll_copies_token")),
    )
    with op.batch_alter_table("poll_copies", schema=None) as batch_op:
        batch_op.create_index("ix_poll_copies_chat", ["chat_id"], unique=False)

    op.create_table(
        "poll_votes",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("ballot", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("poll_id", PK, nullable=True),
        sa.Column("copy_id", sa.BigInteger(), nullable=True),
        sa.Column("org_id", sa.BigInteger(), nullable=True),
        sa.Column("standing", sa.String(length=8), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_votes_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_votes")),
        sa.UniqueConstraint("ballot", "user_id", name=op.f("uq_poll_votes_ballot")),
    )
    with op.batch_alter_table("poll_votes", schema=None) as batch_op:
        batch_op.create_index("ix_poll_votes_at", ["at"], unique=False)
        batch_op.create_index("ix_poll_votes_poll", ["poll_id"], unique=False)


def downgrade() -> None:
    op.drop_table("poll_votes")
    op.drop_table("poll_copies")
    op.drop_table("polls")

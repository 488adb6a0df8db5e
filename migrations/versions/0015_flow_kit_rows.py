"""guided flows kept before the flow kit take its shape (issue 23)

The flow kit (handlers/shared/guided.py) keeps a flow's draft under "draft" in the conversation
row, names the last step "preview" and the steps an invitation filled in "prefilled". A row
saved by the code before it (a flow open across the deploy: rows live 24 hours) is rewritten to
that shape here, so the person goes on where they were; otherwise an invitee's name and tier
would be asked again (and could be changed), and a report's text, a request's answers, a
correction's texts would be lost.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 20:10:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The flows whose draft lived at the top of the row, and the fields it had there.
TOP_LEVEL = {
    "report": ("text", "link", "file_id", "file_name"),
    "ask": ("capacity", "urgency", "text", "alert"),
    "alert_fix": ("alert", "mode", "es", "en", "reason"),
    "lowprofile": ("org_id",),
    "alert_sign": ("alert", "name"),
}
LAST_STEP = {"poll": "confirm", "register": "confirm", "alert_fix": "confirm",
             "alert_sign": "confirm"}


def reshaped(flow: str, step: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    data = dict(data or {})
    if flow in TOP_LEVEL and "draft" not in data:
        data = {"draft": {k: data[k] for k in TOP_LEVEL[flow] if k in data}}
    if flow == "register":
        data["prefilled"] = list(data.pop("skip", None) or [])
        data.pop("approved_by", None)
    if LAST_STEP.get(flow) == step:
        step = "preview"
    return step, data


def upgrade() -> None:
    conversations = sa.table("conversations", sa.column("chat_id", sa.BigInteger),
                             sa.column("user_id", sa.BigInteger), sa.column("flow", sa.String),
                             sa.column("step", sa.String), sa.column("data", sa.JSON))
    bind = op.get_bind()
    rows = bind.execute(sa.select(conversations).where(
        conversations.c.flow.in_([*TOP_LEVEL, *LAST_STEP]))).all()
    for row in rows:
        step, data = reshaped(row.flow, row.step, row.data)
        bind.execute(conversations.update().where(
            conversations.c.chat_id == row.chat_id, conversations.c.user_id == row.user_id
        ).values(step=step, data=data))


def downgrade() -> None:
    """The old code cannot read the kit's rows: the open flows end (they live 24 hours)."""
    op.execute(sa.text("DELETE FROM conversations WHERE flow IN "
                       "('report', 'ask', 'alert_fix', 'lowprofile', 'alert_sign', 'poll', "
                       "'register')"))

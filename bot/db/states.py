"""The states rows move through, as types: the outbox's, an alert's and a poll's.

Why here: they are the schema's vocabulary (the columns store exactly these values, so no
migration) and both the delivery layer and the services read them; the delivery layer may import
`bot/db`, never a service. A `StrEnum` equals its stored string, so a row read back compares
equal to the member and a query binds it as text.
"""

from __future__ import annotations

from enum import StrEnum


class OutboxState(StrEnum):
    """One recipient's copy: queued -> sending -> sent | failed | unreachable (forward only)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


OUTBOX_LIVE = (OutboxState.QUEUED, OutboxState.SENDING)
OUTBOX_FINAL = (OutboxState.SENT, OutboxState.FAILED, OutboxState.UNREACHABLE)
OUTBOX_LOST = (OutboxState.FAILED, OutboxState.UNREACHABLE)


class AlertStatus(StrEnum):
    """draft -> sent, or draft -> review -> sent | draft (the two-person rule)."""

    DRAFT = "draft"
    REVIEW = "review"
    SENT = "sent"


class PollStatus(StrEnum):
    """open -> closed (the close counts and keeps the result)."""

    OPEN = "open"
    CLOSED = "closed"

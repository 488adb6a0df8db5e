"""What a volunteer admin needs to know about a running bot, read from the database alone.

Why from the database: `coalition-bot status` must work while the bot runs or not, in polling or
webhook mode, from another shell; the webhook's health endpoint adds only what the running
process knows (is its sender alive). Ids and counts only: nothing here names anyone (rule Q).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Organisation, OutboxRow, SavedUpdate, ScheduledTask
from bot.db.states import OUTBOX_LIVE, OUTBOX_LOST

# Past these, something is stuck: a queued copy waiting 5 minutes when Telegram allows 30 a
# second, or scheduled work 2 minutes late when the sweeper runs every few seconds.
QUEUE_STUCK_S = 300.0
SCHEDULER_STUCK_S = 120.0
UPDATES_STUCK_S = 120.0


@dataclass
class Status:
    """Queue depth, recent failures, what is due next, and how late things are."""

    now: datetime
    outbox: dict[str, int]
    failed_last_day: int
    unreachable_last_day: int
    reasons_last_day: dict[str, int]
    oldest_queued_s: float | None
    scheduler_lag_s: float | None
    oldest_unhandled_update_s: float | None
    next_scheduled: list[tuple[str, datetime]] = field(default_factory=list)
    pending_registrations: int = 0

    @property
    def problems(self) -> list[str]:
        """Event-style names of what is wrong (empty: healthy as far as the data shows)."""
        found = []
        if self.oldest_queued_s is not None and self.oldest_queued_s > QUEUE_STUCK_S:
            found.append("outbox_stuck")
        if self.scheduler_lag_s is not None and self.scheduler_lag_s > SCHEDULER_STUCK_S:
            found.append("scheduler_late")
        if (self.oldest_unhandled_update_s is not None
                and self.oldest_unhandled_update_s > UPDATES_STUCK_S):
            found.append("updates_stuck")
        return found


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())


async def database_reachable(session: AsyncSession) -> bool:
    try:
        await session.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def status(session: AsyncSession, now: datetime) -> Status:
    by_state = dict((await session.execute(
        select(OutboxRow.state, func.count()).group_by(OutboxRow.state))).all())
    day_ago = now - timedelta(days=1)
    recent = dict((await session.execute(
        select(OutboxRow.state, func.count())
        .where(OutboxRow.state.in_(OUTBOX_LOST), OutboxRow.updated_at >= day_ago)
        .group_by(OutboxRow.state))).all())
    reasons = dict((await session.execute(
        select(OutboxRow.reason, func.count())
        .where(OutboxRow.state.in_(OUTBOX_LOST), OutboxRow.updated_at >= day_ago)
        .group_by(OutboxRow.reason))).all())
    # Waiting to go: queued, or sending and due again (a retry); its age from when it was due.
    oldest_queued = (await session.execute(
        select(func.min(OutboxRow.next_attempt_at))
        .where(OutboxRow.state.in_(OUTBOX_LIVE), OutboxRow.next_attempt_at <= now)
    )).scalar()
    oldest_due = (await session.execute(
        select(func.min(ScheduledTask.due_at))
        .where(ScheduledTask.status == "pending", ScheduledTask.due_at <= now))).scalar()
    oldest_update = (await session.execute(
        select(func.min(SavedUpdate.received_at))
        .where(SavedUpdate.status != "done"))).scalar()
    upcoming = (await session.execute(
        select(ScheduledTask.kind, ScheduledTask.due_at)
        .where(ScheduledTask.status == "pending").order_by(ScheduledTask.due_at).limit(5))).all()
    pending = (await session.execute(
        select(func.count()).select_from(Organisation)
        .where(Organisation.status == "pending"))).scalar_one()
    return Status(
        now=now,
        outbox={str(k): int(v) for k, v in by_state.items()},
        failed_last_day=int(recent.get("failed", 0)),
        unreachable_last_day=int(recent.get("unreachable", 0)),
        reasons_last_day={str(k): int(v) for k, v in reasons.items()},
        oldest_queued_s=_age(now, oldest_queued),
        scheduler_lag_s=_age(now, oldest_due),
        oldest_unhandled_update_s=_age(now, oldest_update),
        next_scheduled=[(str(k), d) for k, d in upcoming],
        pending_registrations=int(pending),
    )


def report(found: Status) -> str:
    """`coalition-bot status` as plain text (for a terminal; English, as logs are)."""
    def age(value: float | None) -> str:
        return "none" if value is None else f"{value:.0f} s"

    lines = [f"status at {found.now:%Y-%m-%d %H:%M:%S} UTC",
             "health: " + (", ".join(found.problems) or "ok"),
             "outbox by state: " + (", ".join(f"{k}={v}" for k, v in sorted(found.outbox.items()))
                                    or "empty"),
             f"oldest copy waiting to be sent: {age(found.oldest_queued_s)}",
             f"last day: failed={found.failed_last_day} "
             f"unreachable={found.unreachable_last_day}"]
    lines += [f"  reason: {reason} ({count})"
              for reason, count in sorted(found.reasons_last_day.items())]
    lines += [f"scheduler lag: {age(found.scheduler_lag_s)}",
              f"oldest unhandled update: {age(found.oldest_unhandled_update_s)}",
              f"pending registrations: {found.pending_registrations}",
              "next scheduled:"]
    lines += [f"  {due:%Y-%m-%d %H:%M:%S} UTC {kind}" for kind, due in found.next_scheduled]
    if not found.next_scheduled:
        lines.append("  nothing")
    return "\n".join(lines)

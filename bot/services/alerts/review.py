"""The two-person rule (issue 8, setting TWO_PERSON_RULE): an alert one coordinator composed goes
only after a second coordinator approves its preview; an urgent one may go at once, and the
other coordinators are told.

States: `draft -> review` (the composer asks for approval) `-> sent` (another coordinator
approves, `alerts.send(approving=True)`) or `review -> draft` (another coordinator sends it back;
the composer may edit it and ask again). Every change is a conditional update, so a double tap
or a replayed update changes nothing twice. No Telegram here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Alert
from bot.db.states import AlertStatus
from bot.services.alerts import alerts
from bot.services.membership import members_view


def needs_approval(enabled: bool, alert: Alert) -> bool:
    """Whether Send must wait for a second coordinator: with the rule on, every alert but an
    urgent one (which may go at once and is flagged to the others)."""
    return enabled and alert.severity != "urgent"


async def request(session: AsyncSession, alert_id: int, user_id: int,
                  now: datetime) -> Alert | None:
    """The composer asks for approval: `draft -> review`. None when it is not their ready draft
    (or it already waits: a double tap)."""
    alert = await alerts.draft_of(session, alert_id, user_id)
    if alert is None or not alerts.ready(alert):
        return None
    won = await session.execute(update(Alert).where(Alert.id == alert_id,
                                                    Alert.status == AlertStatus.DRAFT)
                                .values(status=AlertStatus.REVIEW, updated_at=now))
    if not won.rowcount:
        return None
    await session.refresh(alert)
    return alert


async def send_back(session: AsyncSession, alert_id: int, user_id: int,
                    now: datetime) -> Alert | None:
    """Another coordinator does not approve: `review -> draft`, back to its composer. The
    composer cannot decide on their own alert either way."""
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.status != AlertStatus.REVIEW or alert.composed_by == user_id:
        return None
    won = await session.execute(update(Alert).where(Alert.id == alert_id,
                                                    Alert.status == AlertStatus.REVIEW)
                                .values(status=AlertStatus.DRAFT, updated_at=now))
    if not won.rowcount:
        return None
    await session.refresh(alert)
    return alert


async def other_coordinators(session: AsyncSession, configured: tuple[int, ...],
                             coordination_chat: int | None,
                             composer: int | None) -> list[members_view.Recipient]:
    """Who is asked to approve, or told of an urgent alert sent at once: the coordination group
    when there is one, else every reachable coordinator but the composer (rule P)."""
    found = await members_view.coordination_recipients(session, configured, coordination_chat)
    return [r for r in found if r.chat_id != composer]

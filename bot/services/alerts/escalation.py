"""Escalation (issue 8): an alert that asks for acknowledgement and has a deadline is followed up
by two scheduled rows (rule S) written at Send: at ESCALATION_LEAD_HOURS before the deadline the
organisations still silent get the alert again in their reachable contacts' private chats (their
unreachable contacts are listed to coordinators instead); at the deadline the ones still silent
are flagged to the coordinators. An organisation that answered is left alone at both steps.

A lead time that would fall before Send (a deadline closer than the lead) is moved to halfway
between Send and the deadline, so the re-send never follows the alert at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Alert, AlertAnswer, AlertTarget, Contact, Organisation, Person
from bot.db.states import AlertStatus

RESEND_KIND = "alerts.escalate"
OVERDUE_KIND = "alerts.overdue"


def applies(alert: Alert) -> bool:
    return (alert.deadline is not None and "acknowledge" in (alert.asks or [])
            and alert.withdrawn_at is None)


def resend_at(alert: Alert, sent_at: datetime, lead: timedelta) -> datetime | None:
    """When the silent organisations get the alert again (None: the deadline already passed)."""
    if alert.deadline is None or alert.deadline <= sent_at:
        return None
    at = alert.deadline - lead
    return at if at > sent_at else sent_at + (alert.deadline - sent_at) / 2


@dataclass
class SilentOrg:
    org_id: int
    name: str
    low_profile: bool
    alias: str | None
    reachable: list[int] = field(default_factory=list)  # contacts' private chats
    unreachable: int = 0  # contacts the bot cannot write to (rule P)


async def silent_orgs(session: AsyncSession, alert_id: int) -> list[SilentOrg]:
    """The active organisations the alert reached that have not answered, with their contacts."""
    answered = select(AlertAnswer.org_id).where(AlertAnswer.alert_id == alert_id)
    reached = select(AlertTarget.org_id).where(AlertTarget.alert_id == alert_id)
    orgs = {int(i): SilentOrg(int(i), str(n), bool(low), a) for i, n, low, a in (
        await session.execute(
            select(Organisation.id, Organisation.name, Organisation.low_profile,
                   Organisation.alias)
            .where(Organisation.id.in_(reached), Organisation.id.not_in(answered),
                   Organisation.status == "active")
            .order_by(Organisation.name, Organisation.id))).all()}
    if orgs:
        for org_id, user_id, reachable in (await session.execute(
                select(Contact.org_id, Contact.user_id, Person.reachable)
                .outerjoin(Person, Person.id == Contact.user_id)
                .where(Contact.org_id.in_(list(orgs)))
                .order_by(Contact.org_id, Contact.user_id))).all():
            if reachable:
                orgs[int(org_id)].reachable.append(int(user_id))
            else:
                orgs[int(org_id)].unreachable += 1
    return list(orgs.values())


async def still_open(session: AsyncSession, alert_id: int) -> Alert | None:
    """The alert, if escalation still concerns it (sent, not withdrawn)."""
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.status != AlertStatus.SENT or not applies(alert):
        return None
    return alert

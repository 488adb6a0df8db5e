"""Open invitations, as the coordinators see and withdraw them (issue 21, item 1).

An invitation is made by `membership.create_invitation` and used by `membership.redeem`, which
refuses one whose maker no longer holds the role that made it. Here the coordinators list the
invitations still open (not used, not expired) and withdraw one: a link sent to the wrong
person, or made by someone who left, stops working at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Invitation, Organisation
from bot.services.membership import membership

PAGE_SIZE = 8


@dataclass(frozen=True)
class OpenInvitation:
    code: str
    made_by: int
    org_name: str | None  # the organisation a colleague is invited to, or the one to register
    colleague: bool  # to an existing organisation (made by its contact), else a registration
    tier: str | None
    expires_at: datetime


@dataclass(frozen=True)
class InvitationPage:
    rows: list[OpenInvitation]
    total: int
    page: int
    pages: int


def _open(now: datetime):  # type: ignore[no-untyped-def]
    return (Invitation.used_at.is_(None), Invitation.withdrawn_at.is_(None),
            Invitation.expires_at > now)


async def open_invitations(session: AsyncSession, now: datetime, page: int = 0,
                           size: int = PAGE_SIZE) -> InvitationPage:
    """One page of the open invitations, the newest first."""
    total = int((await session.execute(
        select(func.count()).select_from(Invitation).where(*_open(now)))).scalar_one())
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    rows = (await session.execute(
        select(Invitation, Organisation.name).outerjoin(
            Organisation, Organisation.id == Invitation.org_id)
        .where(*_open(now)).order_by(Invitation.created_at.desc(), Invitation.code)
        .offset(page * size).limit(size))).all()
    found = [OpenInvitation(code=i.code, made_by=int(i.created_by),
                            org_name=name if i.org_id is not None else i.org_name,
                            colleague=i.org_id is not None, tier=i.tier,
                            expires_at=i.expires_at) for i, name in rows]
    return InvitationPage(found, total, page, pages)


async def withdraw(session: AsyncSession, code: str, actor: int, now: datetime) -> bool:
    """Withdraw an open invitation; False if it was used, expired or withdrawn already."""
    invitation = await session.get(Invitation, code)
    if (invitation is None or invitation.used_at is not None
            or invitation.withdrawn_at is not None or invitation.expires_at <= now):
        return False
    await session.execute(update(Invitation).where(Invitation.code == code)
                          .values(withdrawn_at=now))
    await membership.audit(session, actor, "invitation.withdrawn", now,
                           org_id=invitation.org_id)
    return True

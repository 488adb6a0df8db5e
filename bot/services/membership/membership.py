"""Organisations, their contacts and member chats, invitations, and coordinators' decisions.

Every function takes a session and returns data; it never talks to Telegram. A decision on a
registration is a conditional update (`WHERE status = 'pending'`), so when two coordinators press
at once exactly one wins, whatever the timing and the number of instances.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry, Contact, Invitation, MemberChat, Organisation
from bot.services.shared import roles
from bot.services.shared import vocabulary as v

REGISTRATIONS_PER_DAY = 3
INVITATION_TTL = timedelta(days=7)


class Refusal(StrEnum):
    """Why a membership change was refused; handlers turn each into a translated sentence."""

    ALREADY_CONTACT = "already_contact"
    TOO_MANY = "too_many"
    NOT_PENDING = "not_pending"
    UNKNOWN_INVITATION = "unknown_invitation"
    USED_INVITATION = "used_invitation"
    EXPIRED_INVITATION = "expired_invitation"
    REVOKED_INVITATION = "revoked_invitation"
    NOT_ACTIVE = "not_active"
    LINKED_ELSEWHERE = "linked_elsewhere"


class MembershipError(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


@dataclass
class Draft:
    """A registration being filled in (kept in the conversation row, rule C)."""

    name: str | None = None
    kind: str | None = None
    tier: str | None = None
    scope: str | None = None
    areas: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    capacities: list[str] = field(default_factory=list)
    language: str | None = None
    only_contacts_answer: bool | None = None
    invitation: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def clean_name(text: str) -> str | None:
    """An organisation's name: 2-120 characters of one line, or None."""
    name = " ".join(text.split())
    if not (v.MIN_NAME <= len(name) <= v.MAX_NAME) or name.startswith("/"):
        return None
    return name


def valid_areas(scope: str, areas: list[str]) -> bool:
    if scope in ("local", "state"):
        return bool(areas) and all(v.is_state(a) for a in areas)
    if scope == "national":
        return len(areas) == 1 and areas[0] in v.LATAM
    if scope == "regional":
        return len(areas) >= 2 and all(a in v.LATAM for a in areas)
    return False


def complete(draft: Draft) -> bool:
    return (draft.name is not None and draft.kind in v.KINDS and draft.tier in v.TIERS
            and draft.scope in v.SCOPES and valid_areas(draft.scope, draft.areas)
            and all(t in v.TOPICS for t in draft.topics)
            and all(c in v.CAPACITIES for c in draft.capacities)
            and draft.language in v.LANGUAGES and draft.only_contacts_answer is not None)


async def audit(session: AsyncSession, actor: int | None, action: str, now: datetime,
                org_id: int | None = None, target_id: int | None = None) -> None:
    session.add(AuditEntry(at=now, actor_id=actor, action=action, org_id=org_id,
                           target_id=target_id))


async def org_of(session: AsyncSession, user_id: int) -> Organisation | None:
    """The organisation the person speaks for (any status), if any."""
    return (await session.execute(
        select(Organisation).join(Contact, Contact.org_id == Organisation.id)
        .where(Contact.user_id == user_id))).scalar_one_or_none()


async def register(session: AsyncSession, draft: Draft, user_id: int, now: datetime,
                   approved_by: int | None = None) -> Organisation:
    """Create the organisation with the person as its contact: pending, or active when a
    coordinator's invitation named it (`approved_by`)."""
    existing = await org_of(session, user_id)
    if existing is not None and existing.status in ("pending", "active", "suspended"):
        raise MembershipError(Refusal.ALREADY_CONTACT)
    recent = (await session.execute(
        select(func.count()).select_from(Organisation)
        .where(Organisation.requested_by == user_id,
               Organisation.created_at > now - timedelta(days=1)))).scalar_one()
    if approved_by is None and recent >= REGISTRATIONS_PER_DAY:
        raise MembershipError(Refusal.TOO_MANY)
    if existing is not None:  # a contact of an org that left or was rejected starts anew
        await session.execute(Contact.__table__.delete().where(Contact.user_id == user_id))
    org = Organisation(
        name=draft.name, kind=draft.kind, tier=draft.tier, scope=draft.scope,
        areas=list(draft.areas), topics=list(draft.topics), capacities=list(draft.capacities),
        language=draft.language, only_contacts_answer=bool(draft.only_contacts_answer),
        status="active" if approved_by else "pending", requested_by=user_id,
        decided_by=approved_by, decided_at=now if approved_by else None,
        created_at=now, updated_at=now)
    session.add(org)
    await session.flush()
    session.add(Contact(user_id=user_id, org_id=org.id, added_by=approved_by, added_at=now))
    await audit(session, user_id, "org.registered", now, org_id=org.id)
    return org


async def decide(session: AsyncSession, org_id: int, coordinator: int, approve: bool,
                 now: datetime, reason: str | None = None) -> bool:
    """Approve or reject a pending organisation; True only for the decision that won."""
    result = await session.execute(
        update(Organisation)
        .where(Organisation.id == org_id, Organisation.status == "pending")
        .values(status="active" if approve else "rejected", decided_by=coordinator,
                decided_at=now, decision_reason=reason, updated_at=now))
    won = (result.rowcount or 0) == 1
    if won:
        await audit(session, coordinator, "org.approved" if approve else "org.rejected", now,
                    org_id=org_id)
    return won


async def set_rejection_reason(session: AsyncSession, org_id: int, reason: str,
                               now: datetime) -> None:
    await session.execute(update(Organisation).where(Organisation.id == org_id)
                          .values(decision_reason=reason[:500], updated_at=now))


async def pending(session: AsyncSession) -> list[Organisation]:
    return list((await session.execute(
        select(Organisation).where(Organisation.status == "pending")
        .order_by(Organisation.created_at))).scalars().all())


async def contacts_of(session: AsyncSession, org_id: int) -> list[int]:
    return list((await session.execute(
        select(Contact.user_id).where(Contact.org_id == org_id)
        .order_by(Contact.added_at))).scalars().all())


async def add_contact(session: AsyncSession, org_id: int, user_id: int, added_by: int | None,
                      now: datetime) -> None:
    if await org_of(session, user_id) is not None:
        raise MembershipError(Refusal.ALREADY_CONTACT)
    session.add(Contact(user_id=user_id, org_id=org_id, added_by=added_by, added_at=now))
    await audit(session, added_by, "contact.added", now, org_id=org_id, target_id=user_id)


async def remove_contact(session: AsyncSession, org_id: int, user_id: int, actor: int,
                         now: datetime) -> bool:
    result = await session.execute(Contact.__table__.delete().where(
        Contact.org_id == org_id, Contact.user_id == user_id))
    if result.rowcount:
        await audit(session, actor, "contact.removed", now, org_id=org_id, target_id=user_id)
    return bool(result.rowcount)


async def create_invitation(session: AsyncSession, created_by: int, now: datetime,
                            org_id: int | None = None, org_name: str | None = None,
                            tier: str | None = None, ttl: timedelta = INVITATION_TTL) -> str:
    code = secrets.token_urlsafe(12)
    session.add(Invitation(code=code, org_id=org_id, org_name=org_name, tier=tier,
                           created_by=created_by, created_at=now, expires_at=now + ttl))
    await audit(session, created_by, "invitation.created", now, org_id=org_id)
    return code


async def maker_may_invite(session: AsyncSession, invitation: Invitation,
                           coordinator_ids: tuple[int, ...]) -> bool:
    """Whether the invitation's maker still holds the role that made it: a coordinator for an
    organisation's registration; for a colleague's, a contact of that organisation (or a
    coordinator). Why at use, not only at making: a removed contact or coordinator must not keep
    letting people in through links made before."""
    if await roles.is_coordinator(session, coordinator_ids, invitation.created_by):
        return True
    if invitation.org_id is None:
        return False
    found = await session.execute(select(Contact.user_id).where(
        Contact.org_id == invitation.org_id, Contact.user_id == invitation.created_by))
    return found.scalar() is not None


async def redeem(session: AsyncSession, code: str, user_id: int, now: datetime,
                 coordinator_ids: tuple[int, ...]) -> Invitation:
    """Use an invitation once: unknown, used, expired or revoked ones (their maker no longer
    holds the role) are refused, and nothing changes."""
    invitation = await session.get(Invitation, code)
    if invitation is None:
        raise MembershipError(Refusal.UNKNOWN_INVITATION)
    if invitation.used_at is not None:
        raise MembershipError(Refusal.USED_INVITATION)
    if invitation.expires_at <= now:
        raise MembershipError(Refusal.EXPIRED_INVITATION)
    if invitation.withdrawn_at is not None or not await maker_may_invite(
            session, invitation, coordinator_ids):
        raise MembershipError(Refusal.REVOKED_INVITATION)
    result = await session.execute(
        update(Invitation).where(Invitation.code == code, Invitation.used_at.is_(None))
        .values(used_by=user_id, used_at=now))
    if not result.rowcount:
        raise MembershipError(Refusal.USED_INVITATION)
    if invitation.org_id is not None:
        await add_contact(session, invitation.org_id, user_id, invitation.created_by, now)
    return invitation


async def link_chat(session: AsyncSession, org: Organisation, chat_id: int, user_id: int,
                    public: bool, member_count: int | None, now: datetime) -> None:
    if org.status != "active":
        raise MembershipError(Refusal.NOT_ACTIVE)
    existing = await session.get(MemberChat, chat_id)
    if existing is not None and existing.org_id != org.id:
        raise MembershipError(Refusal.LINKED_ELSEWHERE)
    if existing is None:
        session.add(MemberChat(chat_id=chat_id, org_id=org.id, active=True, public=public,
                               member_count=member_count, linked_by=user_id, linked_at=now))
    else:
        existing.active, existing.public, existing.member_count = True, public, member_count
    await audit(session, user_id, "chat.linked", now, org_id=org.id, target_id=chat_id)


async def leave(session: AsyncSession, org_id: int, actor: int, now: datetime) -> None:
    await session.execute(update(Organisation).where(Organisation.id == org_id)
                          .values(status="left", updated_at=now))
    await session.execute(update(MemberChat).where(MemberChat.org_id == org_id)
                          .values(active=False))
    await audit(session, actor, "org.left", now, org_id=org_id)

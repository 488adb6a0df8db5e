"""Who is who (rule R). Coordinators come from COORDINATOR_IDS and from the coordinators table."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Contact, Coordinator, Organisation

# Telegram's stand-in for an anonymous group admin: never a known person.
ANONYMOUS_ADMIN_ID = 1087968824


class Role(StrEnum):
    COORDINATOR = "coordinator"
    MEMBER = "member"
    STRANGER = "stranger"


async def is_coordinator(session: AsyncSession, coordinator_ids: tuple[int, ...],
                         user_id: int) -> bool:
    if user_id == ANONYMOUS_ADMIN_ID:
        return False
    if user_id in coordinator_ids:
        return True
    found = await session.execute(select(Coordinator.user_id).where(Coordinator.user_id == user_id))
    return found.scalar() is not None


async def is_active_contact(session: AsyncSession, user_id: int) -> bool:
    """Whether the person speaks for an active member organisation (a coordinator may, or not)."""
    if user_id == ANONYMOUS_ADMIN_ID:
        return False
    active = await session.execute(
        select(Contact.user_id).join(Organisation, Organisation.id == Contact.org_id)
        .where(Contact.user_id == user_id, Organisation.status == "active"))
    return active.scalar() is not None


async def role_of(session: AsyncSession, coordinator_ids: tuple[int, ...], user_id: int) -> Role:
    """Coordinator, else member (a contact of an active organisation), else stranger."""
    if await is_coordinator(session, coordinator_ids, user_id):
        return Role.COORDINATOR
    return Role.MEMBER if await is_active_contact(session, user_id) else Role.STRANGER


async def coordinator_ids_all(session: AsyncSession, configured: tuple[int, ...]) -> list[int]:
    rows = (await session.execute(select(Coordinator.user_id))).scalars().all()
    return sorted(set(configured) | set(rows))

"""What registration, approval and invitations need beyond `membership`: who receives an approval
request, in which language a chat is written to, and the bookkeeping of the request's copies.

Kept apart from `membership.py` (which another capability edits at the same time); every function
takes a session and returns data, never talking to Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Invitation, Organisation, OutboxRow, Person
from bot.db.states import OUTBOX_LIVE, OutboxState
from bot.services.shared import roles


@dataclass(frozen=True)
class Inviter:
    """What an invitation says about the inviting person and what it prefills."""

    code: str
    created_by: int
    org_id: int | None
    org_name: str | None
    tier: str | None


async def reachable_coordinators(session: AsyncSession, configured: tuple[int, ...]) -> list[int]:
    """Coordinators whose private chat the bot may write to (rule P); the others cannot be told."""
    everyone = await roles.coordinator_ids_all(session, configured)
    if not everyone:
        return []
    found = (await session.execute(
        select(Person.id).where(Person.id.in_(everyone), Person.reachable.is_(True)))).scalars()
    reachable = set(found)
    return [c for c in everyone if c in reachable]


async def set_approval_fanout(session: AsyncSession, org_id: int, fanout_id: int) -> None:
    """Keep the fan-out of the approval request, so every copy can be edited after the decision."""
    await session.execute(update(Organisation).where(Organisation.id == org_id)
                          .values(approval_fanout_id=fanout_id))


async def organisation(session: AsyncSession, org_id: int) -> Organisation | None:
    return await session.get(Organisation, org_id)


async def invitation_used_by(session: AsyncSession, code: str, user_id: int) -> Inviter | None:
    """The invitation this person redeemed (so a registration it started is approved by its
    creator); None if the code is not theirs."""
    row = await session.get(Invitation, code)
    if row is None or row.used_by != user_id:
        return None
    return Inviter(code=row.code, created_by=row.created_by, org_id=row.org_id,
                   org_name=row.org_name, tier=row.tier)


@dataclass(frozen=True)
class Copy:
    """One delivered copy of an approval request: where it is and what it said."""

    chat_id: int
    message_id: int
    text: str


async def request_copies(session: AsyncSession, fanout_id: int) -> tuple[list[Copy], int]:
    """The delivered copies of a request (its last part, which carries the buttons), so the
    decision can be written under each one, and how many copies are still on their way (a
    decision may come before the sender recorded every copy's message id)."""
    rows = await session.execute(
        select(OutboxRow.chat_id, OutboxRow.message_ids, OutboxRow.payload, OutboxRow.state)
        .where(OutboxRow.fanout_id == fanout_id))
    copies, on_the_way = [], 0
    for chat_id, ids, payload, state in rows.all():
        if state in OUTBOX_LIVE:
            on_the_way += 1
        elif state == OutboxState.SENT and ids and payload and payload.get("text"):
            copies.append(Copy(int(chat_id), int(ids[-1]), str(payload["text"])))
    return copies, on_the_way

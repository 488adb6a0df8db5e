"""Which chats are a low-profile organisation's: the one read of the member-safety rule that the
delivery layer needs.

Why in `bot/db` and not in `bot/services/safety/safety.py`: the outbox protects every copy to such a
chat whatever its caller asked (so no capability can forget), and the delivery layer imports no
service (the import contract, tests/test_import_contract.py). This is a read of the schema with no
decision of its own beyond it; setting and changing low profile stays in the safety service.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Contact, MemberChat, Organisation

# An organisation whose chats the bot still writes to (a rejected or departed one has none).
LIVE_STATUSES = ("pending", "active", "suspended")


async def protected_chats(session: AsyncSession, chat_ids: Iterable[int]) -> dict[int, int | None]:
    """Of these chats, those of low-profile organisations -> their delete-after hours (or None).

    One query per kind of chat over the few low-profile organisations, for a whole fan-out.
    """
    wanted = set(chat_ids)
    if not wanted:
        return {}
    low = select(Organisation.id, Organisation.delete_after_hours).where(
        Organisation.low_profile.is_(True), Organisation.status.in_(LIVE_STATUSES)).subquery()
    found: dict[int, int | None] = {}
    groups = await session.execute(
        select(MemberChat.chat_id, low.c.delete_after_hours)
        .join(low, low.c.id == MemberChat.org_id))
    contacts = await session.execute(
        select(Contact.user_id, low.c.delete_after_hours).join(low, low.c.id == Contact.org_id))
    for chat_id, hours in [*groups.all(), *contacts.all()]:
        if int(chat_id) in wanted:
            found[int(chat_id)] = hours
    return found

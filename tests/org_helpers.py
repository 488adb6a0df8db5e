"""Shared by the membership tests: organisations made through the service, and table snapshots."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.db.models import Base, Organisation, OutboxRow
from bot.emulator import Emulator
from bot.services.membership import membership
from tests.helpers import eventually

# Tables that change on every update or heartbeat whatever the handler does (sent_messages: the
# bot's own replies in an organisation's chats, kept 48 hours so they can be deleted).
VOLATILE = {"saved_updates", "instances", "leases", "sent_messages"}


async def make_org(service: Any, user_id: int, name: str = "Red <Jalisco> & Co\u200f", *,
                   coordinator: int = 1, active: bool = True, language: str = "es",
                   areas: tuple[str, ...] = ("MX-JAL",), topics: tuple[str, ...] = ("tax",),
                   kind: str = "cso", tier: str = "member", scope: str = "state") -> int:
    """An organisation with `user_id` as its contact, active unless `active=False`."""
    now = service.clock.now()
    async with service.db.transaction() as session:
        org = await membership.register(session, membership.Draft(
            name=name, kind=kind, tier=tier, scope=scope, areas=list(areas),
            topics=list(topics), capacities=["legal"], language=language,
            only_contacts_answer=False), user_id, now,
            approved_by=coordinator if active else None)
        return int(org.id)


async def org_row(service: Any, org_id: int) -> Organisation:
    async with service.db.sessions() as session:
        org = await session.get(Organisation, org_id)
        assert org is not None
        return org


async def snapshot(service: Any) -> dict[str, list[tuple]]:
    """Every row of every table (but the volatile ones), to show that nothing changed. Taken at
    rest: a copy the emulator already shows may still be marked 'sending' for a moment, and two
    snapshots either side of that moment would differ though nothing was done."""
    await eventually(lambda: nothing_in_flight(service), timeout=30,
                     what="no outbox row left in flight before the snapshot")
    rows: dict[str, list[tuple]] = {}
    async with service.db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in VOLATILE:
                continue
            found = (await session.execute(select(table))).all()
            rows[table.name] = sorted((tuple(r) for r in found), key=repr)
    return rows


async def nothing_in_flight(service: Any) -> bool:
    """Whether no outbox row is being sent (queued rows may wait for their time)."""
    async with service.db.sessions() as session:
        return (await session.execute(select(OutboxRow.id).where(
            OutboxRow.state == "sending").limit(1))).scalar() is None


async def ask(emu: Emulator, user: Any, text: str, chat: Any = None, **kwargs: Any) -> Any:
    """Send a message and wait for the bot's first answer in that chat."""
    sent = emu.send(user, text, chat=chat, **kwargs)
    return await emu.wait_for_bot_message(chat or emu.private_chat(user), after=sent)


async def started(emu: Emulator, *users: Any) -> None:
    """The people open their private chat with the bot (reachable, rule P)."""
    for user in users:
        await ask(emu, user, "/start")

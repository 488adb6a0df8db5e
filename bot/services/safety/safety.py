"""Low-profile organisations: how their chats are written to (protected, deleted), who sets it.

Why here and not in each capability: every message to a low-profile organisation's chats, a
fan-out copy or a reply, must be protected (no forwarding, no saving) and, if the organisation
chose it, deleted after some hours. The reply helper asks this module and the outbox asks
`bot/db/low_profile.py` (re-exported here), so a new capability gets the protection without
knowing about it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.low_profile import LIVE_STATUSES
from bot.db.low_profile import protected_chats as protected_chats  # for handlers
from bot.db.models import Contact, MemberChat, Organisation, OutboxRow, Person, SentMessage
from bot.db.states import OutboxState
from bot.services.membership.membership import audit
from bot.services.shared import chats as chats_service

# Telegram lets a bot delete its messages for 48 hours; choices stay under that with a margin.
MIN_DELETE_HOURS, MAX_DELETE_HOURS = 1, 47
DELETABLE_FOR = timedelta(hours=48) - timedelta(minutes=5)
ALIAS_MAX = 60


@dataclass(frozen=True)
class ChatPolicy:
    """How the bot writes in one chat: for whom it speaks, protected or not, deleted when."""

    org_id: int | None = None
    protect: bool = False
    delete_after_hours: int | None = None


async def chat_policy(session: AsyncSession, chat_id: int) -> ChatPolicy:
    """A group linked to an organisation, or the private chat of one of its contacts."""
    org = (await session.execute(
        select(Organisation).join(MemberChat, MemberChat.org_id == Organisation.id)
        .where(MemberChat.chat_id == chat_id, Organisation.status.in_(LIVE_STATUSES)))
    ).scalar_one_or_none()
    if org is None and chat_id > 0:
        org = (await session.execute(
            select(Organisation).join(Contact, Contact.org_id == Organisation.id)
            .where(Contact.user_id == chat_id, Organisation.status.in_(LIVE_STATUSES)))
        ).scalar_one_or_none()
    if org is None:
        return ChatPolicy()
    return ChatPolicy(org.id, org.low_profile,
                      org.delete_after_hours if org.low_profile else None)


async def record_sent(session: AsyncSession, chat_id: int, message_id: int, now: datetime,
                      policy: ChatPolicy) -> None:
    """Keep a reply in an organisation's chat for 48 hours, so `/exit` and the low-profile
    deletion can remove it; other chats' replies are not kept. `now` is Telegram's date of the
    message (the 48 hours run from there, whatever the bot's own delay in recording it)."""
    if policy.org_id is None:
        return
    delete_at = (now + timedelta(hours=policy.delete_after_hours)
                 if policy.delete_after_hours else None)
    session.add(SentMessage(chat_id=chat_id, message_id=message_id, sent_at=now,
                            delete_at=delete_at))


@dataclass(frozen=True)
class LowProfile:
    on: bool
    alias: str | None
    delete_after_hours: int | None


def clean_alias(text: str) -> str | None:
    alias = " ".join(text.split())
    return alias if 0 < len(alias) <= ALIAS_MAX else None


async def _live(session: AsyncSession, org_id: int) -> Organisation | None:
    org = await session.get(Organisation, org_id)
    return org if org is not None and org.status in LIVE_STATUSES else None


async def set_low_profile(session: AsyncSession, org_id: int, on: bool, actor: int,
                          now: datetime) -> LowProfile | None:
    """Turn low profile on or off; off clears the alias and the deletion, so nothing lingers
    that the organisation no longer chose. None: not a live organisation."""
    org = await _live(session, org_id)
    if org is None:
        return None
    org.low_profile, org.updated_at = on, now
    if not on:
        org.alias, org.delete_after_hours = None, None
    await audit(session, actor, "org.low_profile_on" if on else "org.low_profile_off", now,
                org_id=org_id)
    return LowProfile(org.low_profile, org.alias, org.delete_after_hours)


async def set_alias(session: AsyncSession, org_id: int, alias: str | None, actor: int,
                    now: datetime) -> LowProfile | None:
    """The name other members see (None: not shown at all); only while low profile is on."""
    org = await _live(session, org_id)
    if org is None or not org.low_profile:
        return None
    org.alias, org.updated_at = alias, now
    await audit(session, actor, "org.alias_set", now, org_id=org_id)
    return LowProfile(org.low_profile, org.alias, org.delete_after_hours)


async def set_delete_after(session: AsyncSession, org_id: int, hours: int | None, actor: int,
                           now: datetime) -> LowProfile | None:
    """Delete the bot's messages in the organisation's chats after `hours` (1-47), or never."""
    org = await _live(session, org_id)
    if org is None or not org.low_profile:
        return None
    if hours is not None and not MIN_DELETE_HOURS <= hours <= MAX_DELETE_HOURS:
        return None
    org.delete_after_hours, org.updated_at = hours, now
    await audit(session, actor, "org.delete_after_set", now, org_id=org_id)
    return LowProfile(org.low_profile, org.alias, org.delete_after_hours)


async def due_deletions(session: AsyncSession, now: datetime, limit: int = 200
                        ) -> list[tuple[int, int, int]]:
    """(row id, chat, message) of replies whose deletion time has come, still deletable."""
    rows = await session.execute(
        select(SentMessage.id, SentMessage.chat_id, SentMessage.message_id)
        .where(SentMessage.delete_at.is_not(None), SentMessage.delete_at <= now,
               SentMessage.sent_at > now - DELETABLE_FOR)
        .order_by(SentMessage.delete_at).limit(limit))
    return [(int(i), int(c), int(m)) for i, c, m in rows.all()]


@dataclass(frozen=True)
class Missed:
    """A message of the bot whose low-profile deletion fell due when Telegram no longer let the
    bot delete it (older than 48 hours: the bot was down, or Telegram refused)."""

    chat_id: int
    message_id: int
    sent_at: datetime


async def deleting_chats(session: AsyncSession) -> dict[int, int]:
    """The chats of low-profile organisations that chose deletion (their member groups and
    their contacts' private chats) -> after how many hours. Read once per sweep."""
    low = select(Organisation.id, Organisation.delete_after_hours).where(
        Organisation.low_profile.is_(True), Organisation.delete_after_hours.is_not(None),
        Organisation.status.in_(LIVE_STATUSES)).subquery()
    chats = dict((await session.execute(
        select(MemberChat.chat_id, low.c.delete_after_hours)
        .join(low, low.c.id == MemberChat.org_id))).all())
    chats.update(dict((await session.execute(
        select(Contact.user_id, low.c.delete_after_hours)
        .join(low, low.c.id == Contact.org_id))).all()))
    return {int(c): int(h) for c, h in chats.items()}


async def missed_deletions(session: AsyncSession, now: datetime, chats: dict[int, int],
                           limit: int = 500) -> tuple[list[int], list[int], list[Missed]]:
    """Replies (row ids) and fan-out copies (row ids) whose deletion is due but past Telegram's
    window, with the messages they name. Why: they were silently never deleted; the caller
    marks them and tells the organisation's contacts which messages to delete by hand."""
    replies = (await session.execute(
        select(SentMessage.id, SentMessage.chat_id, SentMessage.message_id, SentMessage.sent_at)
        .where(SentMessage.delete_at.is_not(None), SentMessage.delete_at <= now,
               SentMessage.sent_at <= now - DELETABLE_FOR).limit(limit))).all()
    missed = [Missed(int(c), int(m), at) for _, c, m, at in replies]
    copies: list[int] = []
    if chats:
        rows = (await session.execute(
            select(OutboxRow.id, OutboxRow.chat_id, OutboxRow.message_ids, OutboxRow.updated_at)
            .where(OutboxRow.chat_id.in_(list(chats)), OutboxRow.state == OutboxState.SENT,
                   OutboxRow.deleted_at.is_(None), OutboxRow.updated_at <= now - DELETABLE_FOR)
            .limit(limit))).all()
        for row_id, chat_id, ids, at in rows:
            if at <= now - timedelta(hours=int(chats[chat_id])):
                copies.append(int(row_id))
                missed += [Missed(int(chat_id), int(m), at) for m in ids or []]
    return [int(r[0]) for r in replies], copies, missed


async def contacts_to_tell(session: AsyncSession, chat_ids: Iterable[int]
                           ) -> dict[int, list[tuple[int, str | None]]]:
    """For each chat (a member group, or a contact's private chat): the reachable contacts of
    its organisation, with their language, who are told what to delete by hand."""
    found: dict[int, list[tuple[int, str | None]]] = {}
    for chat_id in set(chat_ids):
        policy = await chat_policy(session, chat_id)
        if policy.org_id is None:
            continue
        people = [int(u) for u in (await session.execute(
            select(Contact.user_id).join(Person, Person.id == Contact.user_id)
            .where(Contact.org_id == policy.org_id, Person.reachable.is_(True)))).scalars()]
        languages, _ = await chats_service.languages_and_zones(session, people)
        found[chat_id] = [(u, languages.get(u)) for u in people]
    return found


async def forget_sent(session: AsyncSession, row_ids: list[int]) -> None:
    if row_ids:
        await session.execute(delete(SentMessage).where(SentMessage.id.in_(row_ids)))


async def due_outbox_deletions(session: AsyncSession, now: datetime, chats: dict[int, int],
                               limit: int = 200) -> list[tuple[int, int, list[int]]]:
    """(row id, chat, message ids) of fan-out copies in low-profile chats (`deleting_chats`)
    whose time has come."""
    if not chats:
        return []
    rows = await session.execute(
        select(OutboxRow.id, OutboxRow.chat_id, OutboxRow.message_ids, OutboxRow.updated_at)
        .where(OutboxRow.chat_id.in_(list(chats)), OutboxRow.state == OutboxState.SENT,
               OutboxRow.deleted_at.is_(None), OutboxRow.updated_at > now - DELETABLE_FOR)
        .order_by(OutboxRow.id))
    due = [(int(i), int(c), list(ids or [])) for i, c, ids, at in rows.all()
           if at <= now - timedelta(hours=int(chats[c]))]
    return due[:limit]


async def mark_outbox_deleted(session: AsyncSession, row_ids: list[int], now: datetime) -> None:
    if row_ids:
        await session.execute(update(OutboxRow).where(OutboxRow.id.in_(row_ids))
                              .values(deleted_at=now))

"""`/forget` (a person erases their own data) and `/exit` (an organisation erases itself).

Why so thorough: some members are targets of smear campaigns, audits and surveillance; a seized
database must not name them once they asked to be forgotten. Erasure deletes rows (SQLite's
`secure_delete` zeroes the freed bytes; the caller checkpoints the WAL), turns attributions into
NULL (the answer stays the organisation's or anonymous), and scrubs the places that hold copies of
names and ids as text: saved updates, fan-out payloads, scheduled rows. Each capability adds its
own tables through bot/services/safety/erasure_hooks.py.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    AnonymousCount,
    AuditEntry,
    Chat,
    Contact,
    Conversation,
    Coordinator,
    Fanout,
    Invitation,
    MemberChat,
    Organisation,
    OutboxRow,
    Person,
    SavedUpdate,
    ScheduledTask,
    SentMessage,
)
from bot.db.states import OUTBOX_FINAL, OutboxState
from bot.db.upsert import insert_ignore
from bot.numbers import is_whole_number
from bot.services.safety.erasure_hooks import ORG_HOOKS, PERSON_HOOKS, RETENTION_HOOKS
from bot.services.safety.safety import DELETABLE_FOR
from bot.services.shared import chats as chats_service

EXITED = "orgs_exited"
ERASED = "[…]"
FORGOTTEN = "people_forgotten"


@dataclass
class Forgotten:
    """What `/forget` did: the organisation it left without contacts, if any."""

    org_id: int | None = None
    org_without_contacts: bool = False


@dataclass
class Exited:
    """What is left to do in Telegram after `/exit`: messages to delete and groups to leave."""

    org_id: int
    deletions: list[tuple[int, int]] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    # The contacts' private chats and their languages (None: the person's own setting unknown),
    # for the last message each reads; whether the organisation's chats were protected.
    contacts: list[tuple[int, str | None]] = field(default_factory=list)
    protected: bool = False


def _mentions(value: Any, ids: set[int]) -> bool:
    """Whether a decoded JSON value holds one of these Telegram ids (as a number)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value in ids
    if isinstance(value, dict):
        return any(_mentions(v, ids) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, ids) for v in value)
    return False


def _like_any(column: Any, needles: list[str]) -> Any:
    def escaped(text: str) -> str:
        return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*[cast(column, Text).like(f"%{escaped(n)}%", escape="\\") for n in needles])


def _text_forms(name: str) -> list[str]:
    """How a name may sit in stored JSON: as typed, HTML-escaped, and JSON-escaped of both."""
    forms = {name, html.escape(name, quote=False), html.escape(name)}
    forms |= {json.dumps(f)[1:-1] for f in list(forms)}
    return sorted(f for f in forms if f)


async def _scrub_saved_updates(session: AsyncSession, ids: set[int],
                               names: list[str]) -> None:
    """Blank the saved updates (rule U, kept a day) that carry these ids or names.

    Blank, not delete: the update being handled right now (the `/forget` itself) is marked done
    after this transaction by the intake, which needs its row.
    """
    needles = [str(i) for i in ids] + [f for n in names for f in _text_forms(n)]
    if not needles:
        return
    rows = (await session.execute(
        select(SavedUpdate.update_id, SavedUpdate.payload)
        .where(_like_any(SavedUpdate.payload, needles)))).all()
    blank: list[int] = []
    for update_id, payload in rows:
        if not isinstance(payload, str):
            continue
        try:
            decoded = json.loads(payload)
        except ValueError:
            decoded = None
        named = any(n in payload for n in needles if not is_whole_number(n, signed=True))
        if named or decoded is None or _mentions(decoded, ids):
            blank.append(int(update_id))
    if blank:
        await session.execute(update(SavedUpdate).where(SavedUpdate.update_id.in_(blank))
                              .values(payload="{}", status="done", lane=None))


async def forget_update(session: AsyncSession, update_id: int) -> None:
    """Keep no copy of one saved update (it concerns a chat that was erased)."""
    await session.execute(update(SavedUpdate).where(SavedUpdate.update_id == update_id)
                          .values(payload="{}", lane=None))


async def forget_task_payload(session: AsyncSession, task_id: int) -> None:
    """A scheduled row's work is done and its payload named erased chats: keep none of it."""
    await session.execute(update(ScheduledTask).where(ScheduledTask.id == task_id)
                          .values(payload={}))


async def _scrub_scheduled(session: AsyncSession, ids: set[int], names: list[str]) -> None:
    """Scheduled rows about these chats or people are dropped: nobody is left to receive them."""
    needles = [str(i) for i in ids] + [f for n in names for f in _text_forms(n)]
    rows = (await session.execute(
        select(ScheduledTask.id, ScheduledTask.payload)
        .where(_like_any(ScheduledTask.payload, needles)))).all()
    drop = [int(i) for i, payload in rows
            if _mentions(payload, ids) or any(n in json.dumps(payload) for n in needles
                                              if not is_whole_number(n, signed=True))]
    if drop:
        await session.execute(delete(ScheduledTask).where(ScheduledTask.id.in_(drop)))


async def _scrub_outbox_names(session: AsyncSession, names: list[str],
                              fanout_ids: list[int] | None = None) -> None:
    """Fan-out copies whose text names the erased organisation or person (e.g. the coordinators'
    registration request) keep their row and message ids but lose the name; `fanout_ids`
    limits the search (for a short name that would match inside other words elsewhere)."""
    forms = sorted({f for n in names for f in _text_forms(n)}, key=len, reverse=True)
    if not forms or fanout_ids == []:
        return
    query = select(OutboxRow.id, OutboxRow.payload).where(_like_any(OutboxRow.payload, forms))
    if fanout_ids is not None:
        query = query.where(OutboxRow.fanout_id.in_(fanout_ids))
    rows = (await session.execute(query)).all()
    for row_id, payload in rows:
        text = json.dumps(payload)
        for form in forms:
            text = text.replace(json.dumps(form)[1:-1], ERASED)
        await session.execute(update(OutboxRow).where(OutboxRow.id == row_id)
                              .values(payload=json.loads(text)))


async def _count(session: AsyncSession, name: str) -> None:
    await session.execute(insert_ignore(session, AnonymousCount).values(name=name, count=0))
    await session.execute(update(AnonymousCount).where(AnonymousCount.name == name)
                          .values(count=AnonymousCount.count + 1))


async def _erase_person_rows(session: AsyncSession, user_id: int, now: datetime) -> None:
    """Everything keyed by or naming the person, except the organisation-level effects."""
    for hook in PERSON_HOOKS:
        await hook(session, user_id, now)
    await session.execute(delete(Contact).where(Contact.user_id == user_id))
    await session.execute(update(Contact).where(Contact.added_by == user_id)
                          .values(added_by=None))
    await session.execute(delete(Conversation).where(
        or_(Conversation.user_id == user_id, Conversation.chat_id == user_id)))
    await session.execute(delete(Invitation).where(Invitation.created_by == user_id))
    await session.execute(update(Invitation).where(Invitation.used_by == user_id)
                          .values(used_by=None))
    await session.execute(update(Organisation).where(Organisation.requested_by == user_id)
                          .values(requested_by=None))
    await session.execute(update(Organisation).where(Organisation.decided_by == user_id)
                          .values(decided_by=None))
    await session.execute(update(MemberChat).where(MemberChat.linked_by == user_id)
                          .values(linked_by=None))
    await session.execute(update(Coordinator).where(Coordinator.added_by == user_id)
                          .values(added_by=None))
    await session.execute(update(AuditEntry).where(AuditEntry.actor_id == user_id)
                          .values(actor_id=None))
    await session.execute(update(AuditEntry).where(AuditEntry.target_id == user_id)
                          .values(target_id=None))
    await session.execute(update(Fanout).where(Fanout.report_chat_id == user_id)
                          .values(report_chat_id=None, report_message_id=None))
    await session.execute(delete(OutboxRow).where(OutboxRow.chat_id == user_id))
    await session.execute(delete(SentMessage).where(SentMessage.chat_id == user_id))
    await session.execute(delete(Chat).where(Chat.id == user_id))
    await session.execute(delete(Person).where(Person.id == user_id))


async def forget_person(session: AsyncSession, user_id: int, now: datetime,
                        names: list[str] | None = None, first_name: str | None = None
                        ) -> Forgotten:
    """Erase one person. Their organisation's answers stay the organisation's; an organisation
    left without any contact is reported, so coordinators can find it a new one.

    `names`: how Telegram shows the person right now (name, username), which the bot never
    stores but which copies of texts may quote; `first_name` is erased only from the
    registration requests the person sent (which name the applicant by it).
    """
    names = [n for n in (names or []) if len(n) >= 3]
    org_id = (await session.execute(
        select(Contact.org_id).where(Contact.user_id == user_id))).scalar_one_or_none()
    requests = [int(f) for f in (await session.execute(
        select(Organisation.approval_fanout_id).where(Organisation.requested_by == user_id,
                                                      Organisation.approval_fanout_id.is_not(None))
    )).scalars()]
    await _erase_person_rows(session, user_id, now)
    await _scrub_outbox_names(session, names)
    await _scrub_outbox_names(session, [n for n in (first_name,) if n], requests)
    await _scrub_saved_updates(session, {user_id}, names)
    await _scrub_scheduled(session, {user_id}, [])
    await _count(session, FORGOTTEN)
    result = Forgotten(org_id=int(org_id) if org_id is not None else None)
    if org_id is not None:
        left = (await session.execute(
            select(func.count()).select_from(Contact).where(Contact.org_id == org_id))).scalar()
        result.org_without_contacts = not left
    return result


async def exit_org(session: AsyncSession, org_id: int, now: datetime,
                   names: list[str] | None = None) -> Exited | None:
    """Erase an organisation, its contacts and its chats; keep only anonymous counts.

    Returns what must still happen in Telegram (the caller schedules it in this transaction):
    the bot's messages under 48 hours old in the organisation's chats, and the groups to leave.
    None when there is no such organisation (a second press, a replayed update).
    """
    org = await session.get(Organisation, org_id)
    if org is None:
        return None
    contacts = [int(c) for c in (await session.execute(
        select(Contact.user_id).where(Contact.org_id == org_id))).scalars()]
    # The name a coordinator's invitation gave it, which the applicant may have changed.
    invited = list((await session.execute(
        select(Invitation.org_name).where(Invitation.used_by.in_(contacts),
                                          Invitation.org_name.is_not(None)))).scalars())
    names = [n for n in (org.name, org.alias, *invited, *(names or [])) if n and len(n) >= 3]
    groups = [int(c) for c in (await session.execute(
        select(MemberChat.chat_id).where(MemberChat.org_id == org_id))).scalars()]
    chats = [*groups, *contacts]
    since = now - DELETABLE_FOR
    exited = Exited(org_id=org_id, groups=groups, protected=bool(org.low_profile),
                    contacts=[(c, await chats_service.language_of(session, c, "") or None)
                              for c in contacts])
    recent = await session.execute(
        select(SentMessage.chat_id, SentMessage.message_id)
        .where(SentMessage.chat_id.in_(chats), SentMessage.sent_at > since))
    exited.deletions += [(int(c), int(m)) for c, m in recent.all()]
    copies = await session.execute(
        select(OutboxRow.chat_id, OutboxRow.message_ids)
        .where(OutboxRow.chat_id.in_(chats), OutboxRow.state == OutboxState.SENT,
               OutboxRow.deleted_at.is_(None), OutboxRow.updated_at > since))
    exited.deletions += [(int(c), int(m)) for c, ids in copies.all() for m in (ids or [])]

    for hook in ORG_HOOKS:
        await hook(session, org_id, now)
    # Before the contacts' rows go (which would only blank `used_by`): the invitations they
    # redeemed, any made for the organisation, and any naming it.
    await session.execute(delete(Invitation).where(or_(
        Invitation.org_id == org_id, Invitation.used_by.in_(contacts),
        Invitation.org_name.in_(names))))
    for user_id in contacts:
        await _erase_person_rows(session, user_id, now)
        await _count(session, FORGOTTEN)
    for chat_id in groups:
        await session.execute(delete(OutboxRow).where(OutboxRow.chat_id == chat_id))
        await session.execute(delete(SentMessage).where(SentMessage.chat_id == chat_id))
        await session.execute(delete(Conversation).where(Conversation.chat_id == chat_id))
        await session.execute(update(AuditEntry).where(AuditEntry.target_id == chat_id)
                              .values(target_id=None))
        await session.execute(update(Fanout).where(Fanout.report_chat_id == chat_id)
                              .values(report_chat_id=None, report_message_id=None))
        await session.execute(delete(Chat).where(Chat.id == chat_id))
    if org.approval_fanout_id is not None:
        await session.execute(delete(OutboxRow).where(
            OutboxRow.fanout_id == org.approval_fanout_id))
    await _scrub_outbox_names(session, names)
    await _scrub_saved_updates(session, set(chats), names)
    await _scrub_scheduled(session, set(chats), names)
    await session.execute(delete(MemberChat).where(MemberChat.org_id == org_id))
    await session.execute(delete(Organisation).where(Organisation.id == org_id))
    await _count(session, EXITED)
    return exited


async def purge_retained(session: AsyncSession, now: datetime, retention_days: int) -> int:
    """Rule Q's retention: delivery rows, answers' attributions and audit entries older than the
    retention period go, and so do finished scheduled rows; sent-message rows after 48 hours."""
    cutoff = now - timedelta(days=retention_days)
    purged = 0
    old_fanouts = select(Fanout.id).where(Fanout.created_at < cutoff)
    result = await session.execute(delete(OutboxRow).where(
        OutboxRow.fanout_id.in_(old_fanouts),
        OutboxRow.state.in_(OUTBOX_FINAL)))
    purged += int(result.rowcount or 0)  # type: ignore[attr-defined]
    # The fan-out row stays (its totals are anonymous counts; capabilities point at it) without
    # the chat that followed its progress.
    await session.execute(update(Fanout).where(Fanout.created_at < cutoff)
                          .values(report_chat_id=None, report_message_id=None))
    result = await session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
    purged += int(result.rowcount or 0)  # type: ignore[attr-defined]
    result = await session.execute(delete(ScheduledTask).where(
        ScheduledTask.status.in_(("done", "missed", "failed")),
        ScheduledTask.finished_at < cutoff))
    purged += int(result.rowcount or 0)  # type: ignore[attr-defined]
    result = await session.execute(delete(SentMessage).where(
        SentMessage.sent_at <= now - timedelta(hours=48)))
    purged += int(result.rowcount or 0)  # type: ignore[attr-defined]
    for hook in RETENTION_HOOKS:
        purged += await hook(session, cutoff)
    return purged

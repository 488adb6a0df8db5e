"""What contacts change about their own organisation, and what coordinators see and manage.

Sessions in, data out; nothing here knows Telegram. Every change is audited with ids only
(rule Q). Filtering members happens in Python over the loaded rows: areas, topics and capacities
are JSON lists (the same on SQLite and PostgreSQL), and a coalition has hundreds of organisations,
not millions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Chat, Contact, Coordinator, MemberChat, Organisation, Person
from bot.delivery import outbox
from bot.numbers import whole_number
from bot.services.membership import membership
from bot.services.shared import vocabulary as v
from bot.services.shared.chats import chat_settings, languages_and_zones
from bot.services.shared.roles import ANONYMOUS_ADMIN_ID, coordinator_ids_all
from bot.services.shared.spreadsheet import csv_file

PAGE_SIZE = 20
STATUSES = ("pending", "active", "suspended", "left", "rejected")
# Every area code a filter may name: Mexico's states, then Latin American countries.
AREAS: tuple[str, ...] = (*v.MX_STATES, *v.LATAM)
# Filter name -> (short key used in button data, the values it accepts, in a fixed order).
FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "state": ("a", AREAS),
    "topic": ("t", tuple(v.TOPICS)),
    "capacity": ("c", tuple(v.CAPACITIES)),
    "kind": ("k", tuple(v.KINDS)),
    "tier": ("i", tuple(v.TIERS)),
    "scope": ("o", tuple(v.SCOPES)),
    "status": ("s", STATUSES),
    "reachable": ("r", ("yes", "no")),
}
# `area=` and `country=` read as `state=`: a filter on where an organisation works.
ALIASES = {"area": "state", "country": "state", "region": "state"}


class Change(StrEnum):
    """Why a contact's or coordinator's change was refused; handlers translate each."""

    LAST_CONTACT = "last_contact"
    NOT_IN_ORG = "not_in_org"
    CONFIGURED = "configured"
    LAST_COORDINATOR = "last_coordinator"
    NOT_COORDINATOR = "not_coordinator"
    ALREADY = "already"
    NOT_A_PERSON = "not_a_person"


# -- an organisation's own business ------------------------------------------------------------

async def active_org_of(session: AsyncSession, user_id: int) -> Organisation | None:
    """The active organisation the person speaks for; contacts of others change nothing."""
    org = await membership.org_of(session, user_id)
    return org if org is not None and org.status == "active" else None


async def link(session: AsyncSession, org: Organisation, chat_id: int, user_id: int,
               public: bool, member_count: int | None, now: datetime) -> bool:
    """Link the group (`membership.link_chat`) unless it is already linked to this organisation
    exactly so: a /link handled twice (rule U) or sent again changes and audits nothing.
    Returns whether anything changed."""
    existing = await session.get(MemberChat, chat_id)
    if (existing is not None and existing.org_id == org.id and existing.active
            and existing.public == public and existing.member_count == member_count
            and org.status == "active"):
        return False
    await membership.link_chat(session, org, chat_id, user_id, public, member_count, now)
    return True


async def speaks_for_chat(session: AsyncSession, user_id: int, chat_id: int) -> bool:
    """Whether the person is a contact of the active organisation this group is linked to."""
    found = await session.execute(
        select(MemberChat.chat_id)
        .join(Contact, Contact.org_id == MemberChat.org_id)
        .join(Organisation, Organisation.id == MemberChat.org_id)
        .where(MemberChat.chat_id == chat_id, MemberChat.active.is_(True),
               Contact.user_id == user_id, Organisation.status == "active"))
    return found.first() is not None


async def member_chat_count(session: AsyncSession, org_id: int) -> int:
    """The organisation's linked groups that still receive its messages."""
    found = await session.execute(select(func.count()).select_from(MemberChat).where(
        MemberChat.org_id == org_id, MemberChat.active.is_(True)))
    return int(found.scalar_one())


async def profile(session: AsyncSession, org_id: int) -> tuple[Organisation, int]:
    """The organisation and how many of its member chats still receive its messages."""
    org = await session.get(Organisation, org_id)
    if org is None:
        raise KeyError(org_id)
    return org, await member_chat_count(session, org_id)


async def set_name(session: AsyncSession, org_id: int, name: str, actor: int,
                   now: datetime) -> None:
    await _set(session, org_id, actor, now, "profile.name", name=name)


async def set_language(session: AsyncSession, org_id: int, language: str, actor: int,
                       now: datetime) -> None:
    if language not in v.LANGUAGES:
        raise ValueError(language)
    await _set(session, org_id, actor, now, "profile.language", language=language)


async def set_item(session: AsyncSession, org_id: int, which: str, code: str, on: bool,
                   actor: int, now: datetime) -> list[str]:
    """Turn one topic or capacity on or off; returns the new list. Setting what is already
    there changes nothing and audits nothing (a replayed press, rule U)."""
    known = v.TOPICS if which == "topics" else v.CAPACITIES
    if which not in ("topics", "capacities") or code not in known:
        raise ValueError(code)
    org = await session.get(Organisation, org_id)
    assert org is not None
    current = list(getattr(org, which) or [])
    if (code in current) == on:
        return current
    chosen = set(current) | {code} if on else set(current) - {code}
    new = [c for c in known if c in chosen]  # the vocabulary's order, always
    await _set(session, org_id, actor, now, f"profile.{which}", **{which: new})
    return new


async def set_answering(session: AsyncSession, org_id: int, only_contacts: bool, actor: int,
                        now: datetime) -> None:
    org = await session.get(Organisation, org_id)
    assert org is not None
    if org.only_contacts_answer != only_contacts:
        await _set(session, org_id, actor, now, "profile.answering",
                   only_contacts_answer=only_contacts)


async def _set(session: AsyncSession, org_id: int, actor: int, now: datetime, action: str,
               **values: object) -> None:
    await session.execute(update(Organisation).where(Organisation.id == org_id)
                          .values(updated_at=now, **values))
    await membership.audit(session, actor, action, now, org_id=org_id)


async def remove_contact(session: AsyncSession, org_id: int, target: int, actor: int,
                         now: datetime, notices: Iterable[outbox.Outgoing] = (),
                         by_coordinator: bool = False) -> Change | None:
    """A contact removes another (staff who leave), never the last one; a coordinator may remove
    the last. The notices (the removed person, the other contacts, the coordinators) go in the
    same transaction. None when done."""
    contacts = await membership.contacts_of(session, org_id)
    if target not in contacts:
        return Change.NOT_IN_ORG
    if len(contacts) <= 1 and not by_coordinator:
        return Change.LAST_CONTACT
    await membership.remove_contact(session, org_id, target, actor, now)
    await outbox.enqueue(session, f"contact.removed:{org_id}:{target}:{now.timestamp():.0f}",
                         "contact.removed", list(notices), now)
    return None


async def removal_recipients(session: AsyncSession, org_id: int, target: int, actor: int,
                             configured: tuple[int, ...],
                             coordination_chat: int | None) -> list[Recipient]:
    """Who is told that a contact was removed: the removed person, the organisation's other
    contacts (not the one who did it: they see it done), and the coordinators; each reachable
    one in their own language, once."""
    ids = [c for c in await membership.contacts_of(session, org_id) if c != actor]
    people = {p.id: p for p in (await session.execute(select(Person).where(
        Person.id.in_(ids), Person.reachable.is_(True)))).scalars()}
    found = []
    for person_id in ids:
        person = people.get(person_id)
        if person is not None:
            chosen = (await chat_settings(session, person.id)).language
            found.append(Recipient(person.id, chosen or person.language_code))
    seen = {r.chat_id for r in found} | {actor}
    found += [r for r in await coordination_recipients(session, configured, coordination_chat)
              if r.chat_id not in seen]
    return found


async def leave(session: AsyncSession, org_id: int, actor: int, now: datetime,
                notices: Iterable[outbox.Outgoing]) -> bool:
    """The organisation leaves; the coordinators' notices go in the same transaction.

    False when it was not a member any more (a second press, a replayed update): nothing changes.
    """
    org = await session.get(Organisation, org_id)
    if org is None or org.status not in ("active", "suspended"):
        return False
    await membership.leave(session, org_id, actor, now)
    await outbox.enqueue(session, f"org.left:{org_id}", "org.left", notices, now)
    return True


@dataclass(frozen=True)
class Recipient:
    """A chat coordinators are told things in, with the language to tell them in (`es`, `en`,
    `both`; None: the chat chose none and its person's is unknown, so the default applies)."""

    chat_id: int
    language: str | None


async def coordination_recipients(session: AsyncSession, configured: tuple[int, ...],
                                  coordination_chat: int | None) -> list[Recipient]:
    """The coordination group when there is one, else every reachable coordinator (rule P)."""
    if coordination_chat is not None:
        chats = [coordination_chat]
    else:
        ids = await coordinator_ids_all(session, configured)
        chats = sorted(int(p) for p in (await session.execute(select(Person.id).where(
            Person.id.in_(ids), Person.reachable.is_(True)))).scalars())
    languages, _ = await languages_and_zones(session, chats)
    return [Recipient(chat, languages.get(chat)) for chat in chats]


# -- coordinators' view of the members -------------------------------------------------------

class FilterError(ValueError):
    """A filter a coordinator typed is not one we know."""


def parse_filters(args: Iterable[str]) -> dict[str, str]:
    """`state=Jalisco topic=tax` (or `state=MX-JAL`) -> {"state": "MX-JAL", "topic": "tax"};
    FilterError otherwise."""
    found: dict[str, str] = {}
    for raw_name, raw_value in v.filter_pairs(" ".join(args)):
        name = ALIASES.get(raw_name, raw_name)
        value = raw_value.strip()
        # a place by code or name ("state=Jalisco", "state=MX-JAL", "country=Guatemala")
        value = (v.region_code(value) or value.upper()) if name == "state" else value.lower()
        if not raw_name or name not in FILTERS or value not in FILTERS[name][1]:
            raise FilterError(f"{raw_name}={raw_value}" if raw_name else raw_value)
        found[name] = value
    return found


def pack_filters(filters: dict[str, str]) -> str:
    """Filters in a few bytes for button data: key letter + index, dot-separated."""
    return ".".join(f"{FILTERS[n][0]}{FILTERS[n][1].index(val)}" for n, val in filters.items())


def unpack_filters(packed: str) -> dict[str, str] | None:
    """The inverse of `pack_filters`; None for anything forged or malformed."""
    if packed in ("", "-"):
        return {}
    by_key = {key: (name, values) for name, (key, values) in FILTERS.items()}
    found: dict[str, str] = {}
    for part in packed.split("."):
        index_or_none = whole_number(part[1:]) if len(part) >= 2 else None
        if index_or_none is None or part[0] not in by_key:
            return None
        name, values = by_key[part[0]]
        index = index_or_none
        if index >= len(values):
            return None
        found[name] = values[index]
    return found


@dataclass(frozen=True)
class MemberRow:
    org_id: int
    name: str
    kind: str
    tier: str
    status: str
    areas: list[str]
    chats: int
    reachable: bool


@dataclass(frozen=True)
class MemberPage:
    rows: list[MemberRow]
    total: int
    page: int
    pages: int
    by_status: dict[str, int]
    unreachable: int


async def _reachability(session: AsyncSession) -> tuple[dict[int, int], set[int]]:
    """Active member chats per org, and the orgs with a reachable contact."""
    chat_rows = (await session.execute(
        select(MemberChat.org_id, MemberChat.chat_id).where(MemberChat.active.is_(True)))).all()
    live = set((await session.execute(
        select(Chat.id).where(Chat.id.in_([c for _, c in chat_rows]), Chat.active.is_(True))))
        .scalars()) if chat_rows else set()
    chats: dict[int, int] = {}
    for org_id, chat_id in chat_rows:
        if chat_id in live:
            chats[org_id] = chats.get(org_id, 0) + 1
    reachable = set((await session.execute(
        select(Contact.org_id).join(Person, Person.id == Contact.user_id)
        .where(Person.reachable.is_(True)))).scalars())
    return chats, reachable


def _matches(org: Organisation, filters: dict[str, str], reachable: bool) -> bool:
    for name, value in filters.items():
        if name == "state" and not any(v.meets(value, a) for a in org.areas or []):
            return False
        if name == "topic" and value not in (org.topics or []):
            return False
        if name == "capacity" and value not in (org.capacities or []):
            return False
        if name in ("kind", "tier", "scope", "status") and getattr(org, name) != value:
            return False
        if name == "reachable" and reachable != (value == "yes"):
            return False
    return True


async def members(session: AsyncSession, filters: dict[str, str], page: int = 0,
                  page_size: int = PAGE_SIZE) -> MemberPage:
    """The organisations matching every filter (rejected ones only when asked for), paged."""
    chats, with_contact = await _reachability(session)
    orgs = (await session.execute(select(Organisation).order_by(Organisation.name,
                                                                Organisation.id))).scalars()
    rows = []
    for org in orgs:
        if org.status == "rejected" and filters.get("status") != "rejected":
            continue
        reach = chats.get(org.id, 0) > 0 or org.id in with_contact
        if _matches(org, filters, reach):
            rows.append(MemberRow(org.id, org.name, org.kind, org.tier, org.status,
                                  list(org.areas or []), chats.get(org.id, 0), reach))
    pages = max(1, -(-len(rows) // page_size))
    page = min(max(page, 0), pages - 1)
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row.status] = by_status.get(row.status, 0) + 1
    return MemberPage(rows[page * page_size:(page + 1) * page_size], len(rows), page, pages,
                      by_status, sum(1 for r in rows if not r.reachable))


EXPORT_HEADER = ["record", "org_id", "name", "kind", "tier", "scope", "areas", "topics",
                 "capacities", "language", "only_contacts_answer", "status", "chat_id",
                 "chat_active", "public", "member_count", "user_id", "reachable", "since"]


async def export_csv(session: AsyncSession, actor: int, now: datetime) -> bytes:
    """Every organisation, member chat and contact, one row each; the export is audited."""
    lines: list[list[object]] = []
    blank = {k: "" for k in EXPORT_HEADER}
    orgs = (await session.execute(select(Organisation).order_by(Organisation.id))).scalars()
    for org in orgs:
        lines.append(list({**blank, "record": "org", "org_id": org.id, "name": org.name,
                              "kind": org.kind, "tier": org.tier, "scope": org.scope,
                              "areas": " ".join(org.areas or []),
                              "topics": " ".join(org.topics or []),
                              "capacities": " ".join(org.capacities or []),
                              "language": org.language,
                              "only_contacts_answer": int(org.only_contacts_answer),
                              "status": org.status,
                              "since": org.created_at.isoformat()}.values()))
    for chat in (await session.execute(select(MemberChat).order_by(MemberChat.org_id,
                                                                   MemberChat.chat_id))).scalars():
        lines.append(list({**blank, "record": "chat", "org_id": chat.org_id,
                              "chat_id": chat.chat_id, "chat_active": int(chat.active),
                              "public": int(chat.public),
                              "member_count": "" if chat.member_count is None
                              else chat.member_count,
                              "since": chat.linked_at.isoformat()}.values()))
    rows = (await session.execute(
        select(Contact, Person.reachable).outerjoin(Person, Person.id == Contact.user_id)
        .order_by(Contact.org_id, Contact.user_id))).all()
    for contact, reach in rows:
        lines.append(list({**blank, "record": "contact", "org_id": contact.org_id,
                              "user_id": contact.user_id, "reachable": int(bool(reach)),
                              "since": contact.added_at.isoformat()}.values()))
    await membership.audit(session, actor, "export", now)
    return csv_file(EXPORT_HEADER, lines)


# -- the coordinators ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CoordinatorRow:
    user_id: int
    configured: bool
    reachable: bool


async def coordinators(session: AsyncSession, configured: tuple[int, ...]) -> list[CoordinatorRow]:
    ids = await coordinator_ids_all(session, configured)
    reachable = set((await session.execute(
        select(Person.id).where(Person.id.in_(ids), Person.reachable.is_(True)))).scalars())
    return [CoordinatorRow(i, i in configured, i in reachable) for i in ids]


async def add_coordinator(session: AsyncSession, configured: tuple[int, ...], user_id: int,
                          actor: int, now: datetime) -> Change | None:
    if user_id <= 0 or user_id == ANONYMOUS_ADMIN_ID:
        return Change.NOT_A_PERSON
    if user_id in await coordinator_ids_all(session, configured):
        return Change.ALREADY
    session.add(Coordinator(user_id=user_id, added_by=actor, added_at=now))
    await membership.audit(session, actor, "coordinator.added", now, target_id=user_id)
    return None


async def remove_coordinator(session: AsyncSession, configured: tuple[int, ...], user_id: int,
                             actor: int, now: datetime) -> Change | None:
    if user_id in configured:
        return Change.CONFIGURED
    everyone = await coordinator_ids_all(session, configured)
    if user_id not in everyone:
        return Change.NOT_COORDINATOR
    if len(everyone) <= 1:
        return Change.LAST_COORDINATOR
    await session.execute(delete(Coordinator).where(Coordinator.user_id == user_id))
    await membership.audit(session, actor, "coordinator.removed", now, target_id=user_id)
    return None

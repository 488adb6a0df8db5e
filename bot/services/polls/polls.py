"""Polls on priorities (issue 9): creating, reaching organisations, recording votes (rule A).

Sessions in, data out; nothing here talks to Telegram. A poll has one copy per reached chat
(rule T; an organisation without a linked group is reached in its reachable contacts' private
chats). Telegram's `poll_answer` names the poll and the voter but no chat, so each copy keeps
the Telegram poll id it was given (`trace`), and a vote is attributed through it: in an
organisation's member chat it counts for that organisation, whoever votes (unless the
organisation lets only its contacts answer); in a private chat it counts for the voter's
organisation; anyone else is a stranger, shown apart and never counted. A vote on a copy not
traced yet is kept as `unknown` and attributed when the copy is traced; a copy whose answer was
lost (an orphan, rule D) is never traced, so its votes stay apart.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Contact,
    MemberChat,
    Organisation,
    OutboxRow,
    Person,
    Poll,
    PollCopy,
    PollVote,
)
from bot.db.states import PollStatus
from bot.services.safety import erasure_hooks
from bot.services.shared import chats
from bot.services.shared import vocabulary as v

KINDS = ("single", "multiple", "ranked")
COUNTINGS = ("org", "person")
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_QUESTION, MAX_OPTION = 300, 100
# Telegram closes a native poll itself at `close_date` when it is at most this far ahead.
TELEGRAM_MAX_OPEN = timedelta(seconds=2_628_000)
MIN_OPEN = timedelta(minutes=5)
DEFAULT_NUDGE_BEFORE = timedelta(hours=24)

CLOSE_KIND = "polls.close"
NUDGE_KIND = "polls.nudge"
TRACE_KIND = "polls.trace"

# A migrated group keeps its poll copies (shared/chats.py moves every listed reference).
chats.CHAT_REFERENCES.append((PollCopy, "chat_id", None))


@dataclass
class Draft:
    """A poll being composed (kept in the coordinator's conversation row, rule C)."""

    question: str | None = None
    options: list[str] = field(default_factory=list)
    kind: str | None = None
    counting: str = "org"
    allies_count: bool = False
    tiers: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    closes_at: str | None = None  # ISO 8601, UTC
    narrow: bool = False  # "only some": places, topics and kinds are asked with buttons

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def closes(self) -> datetime | None:
        return datetime.fromisoformat(self.closes_at) if self.closes_at else None

    def complete(self) -> bool:
        return (bool(self.question) and MIN_OPTIONS <= len(self.options) <= MAX_OPTIONS
                and self.kind in KINDS and self.counting in COUNTINGS
                and self.closes_at is not None)

    def audience(self) -> dict[str, list[str]]:
        return {"tiers": list(self.tiers), "kinds": list(self.kinds),
                "regions": list(self.regions), "topics": list(self.topics)}


def clean_question(text: str) -> str | None:
    question = " ".join(text.split())
    if not question or len(question) > MAX_QUESTION or question.startswith("/"):
        return None
    return question


def clean_options(text: str) -> list[str] | None:
    """One option a line: 2-10 distinct options of 1-100 characters, or None."""
    options = [" ".join(line.split()) for line in text.splitlines()]
    options = [o for o in options if o]
    if not (MIN_OPTIONS <= len(options) <= MAX_OPTIONS):
        return None
    if any(len(o) > MAX_OPTION for o in options) or len(set(options)) != len(options):
        return None
    return options


@dataclass(frozen=True)
class Recipient:
    """A chat a poll reaches, and the organisation it reaches there."""

    chat_id: int
    org_id: int
    private: bool
    language: str | None
    timezone: str | None


def reaches(org: Organisation, audience: dict[str, Any]) -> bool:
    """Rule T: active, in the audience's tiers and kinds, topics and regions met."""
    tiers, kinds = audience.get("tiers") or [], audience.get("kinds") or []
    topics, regions = audience.get("topics") or [], audience.get("regions") or []
    return (org.status == "active" and (not tiers or org.tier in tiers)
            and (not kinds or org.kind in kinds)
            and (not topics or any(t in (org.topics or []) for t in topics))
            and v.meets_any(list(regions), list(org.areas or [])))


async def recipients(session: AsyncSession, audience: dict[str, Any]) -> list[Recipient]:
    """Every active member chat of each reached organisation, once; an organisation with none is
    reached in its reachable contacts' private chats."""
    orgs = [o for o in (await session.execute(
        select(Organisation).where(Organisation.status == "active"))).scalars()
        if reaches(o, audience)]
    ids = [o.id for o in orgs]
    if not ids:
        return []
    groups: dict[int, list[int]] = {}
    rows = await session.execute(
        select(MemberChat.org_id, MemberChat.chat_id)
        .where(MemberChat.org_id.in_(ids), MemberChat.active.is_(True))
        .order_by(MemberChat.chat_id))
    for org_id, chat_id in rows.all():
        groups.setdefault(int(org_id), []).append(int(chat_id))
    people: dict[int, list[int]] = {}
    rows = await session.execute(
        select(Contact.org_id, Contact.user_id)
        .join(Person, Person.id == Contact.user_id)
        .where(Contact.org_id.in_(ids), Person.reachable.is_(True))
        .order_by(Contact.user_id))
    for org_id, user_id in rows.all():
        people.setdefault(int(org_id), []).append(int(user_id))
    every = sorted({c for found in (groups, people) for chats_of in found.values()
                    for c in chats_of})
    languages, zones = await chats.languages_and_zones(session, every)
    found: dict[int, Recipient] = {}
    for org in orgs:
        chats_of = groups.get(org.id)
        private = not chats_of
        for chat_id in (chats_of or people.get(org.id, [])):
            found.setdefault(chat_id, Recipient(chat_id, org.id, private,
                                                languages.get(chat_id) or org.language,
                                                zones.get(chat_id)))
    return list(found.values())


async def create(session: AsyncSession, draft: Draft, creator: int,
                 now: datetime) -> tuple[Poll, list[tuple[PollCopy, Recipient]]]:
    """The poll and a copy per reached chat, in the caller's transaction (the caller renders
    each copy and puts it in the outbox in the same transaction, rule D)."""
    closes = draft.closes()
    assert draft.complete() and closes is not None
    audience = draft.audience()
    reached = await recipients(session, audience)
    poll = Poll(question=draft.question, options=list(draft.options), kind=draft.kind,
                counting=draft.counting, allies_count=draft.allies_count, audience=audience,
                status=PollStatus.OPEN, created_by=creator, created_at=now, closes_at=closes,
                reached_orgs=len({r.org_id for r in reached}))
    session.add(poll)
    await session.flush()
    copies = []
    for recipient in reached:
        copy = PollCopy(poll_id=poll.id, chat_id=recipient.chat_id, org_id=recipient.org_id,
                        private=recipient.private, token=secrets.token_urlsafe(9)[:12])
        session.add(copy)
        copies.append((copy, recipient))
    await session.flush()
    return poll, copies


async def set_fanout(session: AsyncSession, poll_id: int, fanout_id: int) -> None:
    await session.execute(update(Poll).where(Poll.id == poll_id).values(fanout_id=fanout_id))


async def get(session: AsyncSession, poll_id: int) -> Poll | None:
    return await session.get(Poll, poll_id)


async def recent(session: AsyncSession, limit: int = 10,
                 closed_only: bool = False) -> list[Poll]:
    query = select(Poll).order_by(Poll.id.desc()).limit(limit)
    if closed_only:
        query = query.where(Poll.status == PollStatus.CLOSED)
    return list((await session.execute(query)).scalars())


async def copy_by_token(session: AsyncSession, token: str) -> PollCopy | None:
    return (await session.execute(
        select(PollCopy).where(PollCopy.token == token))).scalar_one_or_none()


async def copy(session: AsyncSession, copy_id: int) -> PollCopy | None:
    return await session.get(PollCopy, copy_id)


async def copies_of(session: AsyncSession, poll_id: int) -> list[PollCopy]:
    return list((await session.execute(
        select(PollCopy).where(PollCopy.poll_id == poll_id).order_by(PollCopy.id))).scalars())


# -- tracing copies ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Untraced:
    copy_id: int
    chat_id: int
    message_id: int


TRACE_BATCH = 50


async def untraced(session: AsyncSession, poll: Poll,
                   limit: int = TRACE_BATCH) -> tuple[list[Untraced], int]:
    """Copies sent (their message id recorded by the sender) whose Telegram poll id is not
    known yet, and how many copies are still on their way."""
    if poll.fanout_id is None:
        return [], 0
    rows = (await session.execute(
        select(OutboxRow.chat_id, OutboxRow.state, OutboxRow.message_ids)
        .where(OutboxRow.fanout_id == poll.fanout_id))).all()
    copies = {c.chat_id: c for c in await copies_of(session, poll.id)}
    found, waiting = [], 0
    for chat_id, state, ids in rows:
        copy = copies.get(int(chat_id))
        if state in ("queued", "sending"):
            waiting += 1
        elif state == "sent" and ids and copy is not None and copy.tg_poll_id is None:
            found.append(Untraced(copy.id, copy.chat_id, int(ids[-1])))
    return found[:limit], waiting


async def trace(session: AsyncSession, copy_id: int, message_id: int,
                tg_poll_id: str | None) -> None:
    """Keep a copy's message and Telegram poll ids, and attribute the votes already kept for it."""
    copy = await session.get(PollCopy, copy_id)
    if copy is None:
        return
    copy.message_id = message_id
    if tg_poll_id is None or copy.tg_poll_id is not None:
        return
    copy.tg_poll_id = tg_poll_id
    await session.flush()
    votes = (await session.execute(
        select(PollVote).where(PollVote.ballot == tg_poll_id))).scalars().all()
    for vote in votes:
        vote.poll_id, vote.copy_id = copy.poll_id, copy.id
        vote.standing, vote.org_id = await attribute(session, copy, vote.user_id)


async def attribute_late(session: AsyncSession, poll_id: int) -> int:
    """Attribute votes still `unknown` whose copy is traced by now. On PostgreSQL a vote can be
    recorded as unknown while its copy is being traced in another transaction; the close runs
    this before counting, so no such vote is left apart."""
    copies = {c.tg_poll_id: c for c in await copies_of(session, poll_id) if c.tg_poll_id}
    if not copies:
        return 0
    ballots = list(copies)
    late: list[PollVote] = []
    for start in range(0, len(ballots), 900):
        late += (await session.execute(select(PollVote).where(
            PollVote.poll_id.is_(None), PollVote.ballot.in_(ballots[start:start + 900]))
        )).scalars().all()
    for vote in late:
        copy = copies[vote.ballot]
        vote.poll_id, vote.copy_id = copy.poll_id, copy.id
        vote.standing, vote.org_id = await attribute(session, copy, vote.user_id)
    return len(late)


# -- votes (rule A) ------------------------------------------------------------------------------

async def attribute(session: AsyncSession, copy: PollCopy, user_id: int | None,
                    in_chat: bool = True) -> tuple[str, int | None]:
    """(standing, organisation) of a vote on this copy by this person (rule A). `in_chat` says
    whether the voter is in the copy's chat: always so for a native poll (Telegram lets only the
    chat's members vote), asked of Telegram for a ranked ballot, which is voted in private
    through a link anyone can be handed; someone outside the group is a stranger."""

    async def contact_org() -> int | None:
        if user_id is None:
            return None
        found = (await session.execute(
            select(Contact.org_id).join(Organisation, Organisation.id == Contact.org_id)
            .where(Contact.user_id == user_id, Organisation.status == "active"))).scalar()
        return int(found) if found is not None else None

    if copy.private:
        own = await contact_org()
        return ("org", own) if own is not None else ("stranger", None)
    org = (await session.execute(
        select(Organisation.status, Organisation.only_contacts_answer)
        .where(Organisation.id == copy.org_id))).first() if copy.org_id is not None else None
    if org is None or org[0] != "active" or not in_chat:
        return "stranger", None
    if org[1] and await contact_org() != copy.org_id:
        return "stranger", None
    return "org", int(copy.org_id) if copy.org_id is not None else None


@dataclass(frozen=True)
class Recorded:
    standing: str  # org | stranger | unknown | closed
    poll_id: int | None


async def record(session: AsyncSession, ballot: str, user_id: int, choices: list[int],
                 seq: int, now: datetime, copy: PollCopy | None = None,
                 in_chat: bool = True) -> Recorded:
    """Keep a person's current answer on one copy; an older or replayed update changes nothing
    newer. `ballot` is the Telegram poll id (native polls) or `c<copy id>` (ranked ballots).

    Three statements for a vote (the copy with its poll's state, the voter's organisation when
    rule A needs it, one upsert): votes arrive by the hundred a second at a close race."""
    status = None
    if copy is None and not ballot.startswith("c"):
        found = (await session.execute(
            select(PollCopy, Poll.status).join(Poll, Poll.id == PollCopy.poll_id)
            .where(PollCopy.tg_poll_id == ballot))).first()
        if found is not None:
            copy, status = found
    elif copy is not None:
        status = (await session.execute(
            select(Poll.status).where(Poll.id == copy.poll_id))).scalar()
    if copy is not None and status != "open":
        return Recorded("closed", copy.poll_id)
    if copy is None:
        standing, org_id = "unknown", None
    else:
        standing, org_id = await attribute(session, copy, user_id, in_chat)
    values = {"ballot": ballot, "user_id": user_id, "choices": list(choices), "seq": seq,
              "at": now, "standing": standing, "org_id": org_id,
              "poll_id": copy.poll_id if copy else None, "copy_id": copy.id if copy else None}
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(PollVote).values(values)
    await session.execute(insert.on_conflict_do_update(
        index_elements=["ballot", "user_id"],
        set_={k: insert.excluded[k] for k in values if k not in ("ballot", "user_id")},
        where=PollVote.seq <= insert.excluded.seq))
    return Recorded(standing, copy.poll_id if copy else None)


async def close(session: AsyncSession, poll_id: int, now: datetime,
                result: dict[str, Any]) -> bool:
    """Mark the poll closed with its counted result; False if it already was (a re-run)."""
    done = await session.execute(
        update(Poll).where(Poll.id == poll_id, Poll.status == PollStatus.OPEN)
        .values(status=PollStatus.CLOSED, closed_at=now, result=result))
    return bool(done.rowcount)


async def orgs_voted(session: AsyncSession, poll_id: int) -> set[int]:
    rows = await session.execute(select(PollVote.org_id, PollVote.choices).where(
        PollVote.poll_id == poll_id, PollVote.standing == "org"))
    return {int(o) for o, c in rows.all() if o is not None and c}


# -- erasure hooks (rule Q) ----------------------------------------------------------------------

@erasure_hooks.on_forget_person
async def forget_person(session: AsyncSession, user_id: int, now: datetime) -> None:
    """A person's votes become their organisation's (or anonymous); their private copies go."""
    await session.execute(update(PollVote).where(PollVote.user_id == user_id)
                          .values(user_id=None))
    await session.execute(update(PollVote).where(PollVote.copy_id.in_(
        select(PollCopy.id).where(PollCopy.chat_id == user_id))).values(copy_id=None))
    await session.execute(delete(PollCopy).where(PollCopy.chat_id == user_id))
    await session.execute(update(Poll).where(Poll.created_by == user_id).values(created_by=None))


@erasure_hooks.on_erase_org
async def erase_org(session: AsyncSession, org_id: int, now: datetime) -> None:
    """The organisation's votes and copies go; closed polls keep their counted result."""
    await session.execute(delete(PollVote).where(PollVote.org_id == org_id))
    await session.execute(delete(PollCopy).where(PollCopy.org_id == org_id))


@erasure_hooks.on_retention
async def purge_old(session: AsyncSession, cutoff: datetime) -> int:
    """Attributions older than the cutoff: the voter's id goes (the organisation's vote stays)."""
    result = await session.execute(update(PollVote).where(
        PollVote.at < cutoff, PollVote.user_id.is_not(None)).values(user_id=None))
    return result.rowcount or 0


def nudge_time(now: datetime, closes: datetime) -> datetime | None:
    """When organisations that have not voted are reminded: a day before the close, or halfway
    for a poll open less than two days; none for a poll open less than an hour."""
    open_for = closes - now
    if open_for < timedelta(hours=1):
        return None
    return closes - min(DEFAULT_NUDGE_BEFORE, open_for / 2)


def parse_filters(text: str) -> tuple[list[str], list[str], list[str]] | None:
    """`state=Jalisco,MX-OAX topic=tax kind=cso` -> (regions, topics, kinds), places by name or
    code (vocabulary.regions_in); "all" (or "todas") -> no filter; None when a filter or a value
    is unknown."""
    words = text.replace(";", " ").split()
    if len(words) == 1 and words[0].lower() in ("all", "todas", "todos", "-"):
        return [], [], []
    known: dict[str, tuple[str, Any]] = {
        "state": ("regions", (*v.MX_STATES, *v.LATAM)), "region": ("regions", (*v.MX_STATES,
                                                                              *v.LATAM)),
        "country": ("regions", v.LATAM), "topic": ("topics", tuple(v.TOPICS)),
        "kind": ("kinds", tuple(v.KINDS))}
    found: dict[str, list[str]] = {"regions": [], "topics": [], "kinds": []}
    pairs = v.filter_pairs(" ".join(words))
    if not pairs:
        return None
    for key, values in pairs:
        if key not in known or not values.strip():
            return None
        target, allowed = known[key]
        if target == "regions":
            codes, unknown = v.regions_in(values)
            if unknown or any(code not in allowed for code in codes):
                return None
        else:
            codes = [value.strip().lower() for value in values.split(",")]
            if any(code not in allowed for code in codes):
                return None
        found[target] += [code for code in codes if code not in found[target]]
    return found["regions"], found["topics"], found["kinds"]


def open_for_long_enough(closes: datetime, now: datetime) -> bool:
    """A poll closes at least MIN_OPEN from now and within a year."""
    return MIN_OPEN <= closes - now <= timedelta(days=366)


@dataclass(frozen=True)
class Audience:
    """A chat a poll's results or reminder go to: its language, time zone, and (for a member
    chat) where its organisation works."""

    chat_id: int
    language: str | None
    timezone: str | None
    org_id: int | None
    areas: list[str]
    scope: str | None


async def audience_chats(session: AsyncSession, poll_id: int) -> list[Audience]:
    """Every chat that got a copy of the poll, with its settings (the chats' languages as every
    capability reads them: `chats.languages_and_zones`)."""
    rows = (await session.execute(
        select(PollCopy.chat_id, PollCopy.org_id, Organisation.language, Organisation.areas,
               Organisation.scope)
        .join(Organisation, Organisation.id == PollCopy.org_id, isouter=True)
        .where(PollCopy.poll_id == poll_id).order_by(PollCopy.id))).all()
    languages, zones = await chats.languages_and_zones(
        session, [int(row[0]) for row in rows])
    return [Audience(int(chat_id), languages.get(int(chat_id)) or org_lang,
                     zones.get(int(chat_id)), int(org_id) if org_id is not None else None,
                     list(areas or []), scope)
            for chat_id, org_id, org_lang, areas, scope in rows]

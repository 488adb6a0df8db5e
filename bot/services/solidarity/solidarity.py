"""Solidarity responses (issue 12): a member organisation asks for help, the organisations that
offer that capacity are asked (closest first), and both meet only when both agree.

Sessions in, data out; nothing here talks to Telegram. How a request reads in a chat is decided
by the caller (`Render`), so the domain stays apart from the display.

- Who may ask, offer, accept and close (rules R and A): a contact of an active organisation asks,
  accepts and closes for it; an offer counts for the organisation rule A names (a press in its
  member chat, or its contact in private), and *we can help* needs one of its contacts (the
  relay runs through that contact's private chat). A suspended organisation does none of this.
- Reach: every other active organisation that offers the capacity, in every active member chat
  it has, else in its reachable contacts' private chats (as alerts do); written down at asking
  time (`help_targets`) with its rank: same state first, then same scope, then the rest.
- Anonymity: an anonymous request never carries the asking organisation's name, and the bot
  never passes on a person's name, username or id unless both sides chose an introduction.
- Meeting: an accepted offer becomes a *thread* between two private chats; `route` says where a
  person's message goes, `record_relay` makes copying it idempotent (rule U). A closed request
  ends its threads: nothing is relayed after.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Alert,
    AlertAnswer,
    AlertTarget,
    Chat,
    Contact,
    HelpOffer,
    HelpRelay,
    HelpRequest,
    HelpTarget,
    MemberChat,
    Organisation,
    Person,
)
from bot.db.states import AlertStatus
from bot.db.upsert import insert_ignore
from bot.delivery import outbox
from bot.scheduler import schedule
from bot.services.safety.erasure_hooks import on_erase_org, on_forget_person, on_retention
from bot.services.shared import chats as chats_service
from bot.services.shared import vocabulary as v
from bot.services.shared.roles import ANONYMOUS_ADMIN_ID

URGENCIES = ("routine", "soon", "urgent")
VISIBILITIES = ("coordinators", "members")
OUTCOMES = ("helped", "not_needed", "no_help")
ANSWERS = ("can_help", "not_now")
MAX_TEXT = 1000
ESCALATE_AFTER = timedelta(hours=2)  # an urgent request with no offer by then goes to coordinators
ESCALATE_KIND = "solidarity.escalate"
RECENT_ALERTS = 5

# A group that migrates to a supergroup keeps its request targets (offers pressed there go on).
if (HelpTarget, "chat_id", None) not in chats_service.CHAT_REFERENCES:
    chats_service.CHAT_REFERENCES.append((HelpTarget, "chat_id", None))


# -- asking ----------------------------------------------------------------------------------------

async def asker_org(session: AsyncSession, user_id: int) -> Organisation | None:
    """The active organisation the person speaks for: only its contacts ask (rule A)."""
    if user_id == ANONYMOUS_ADMIN_ID:
        return None
    return (await session.execute(
        select(Organisation).join(Contact, Contact.org_id == Organisation.id)
        .where(Contact.user_id == user_id, Organisation.status == "active"))).scalars().first()


def clean_text(text: str) -> str | None:
    value = text.strip()
    if not value or value.startswith("/") or len(value) > MAX_TEXT:
        return None
    return value


def anonymous_by_default(org: Organisation) -> bool:
    """A low-profile organisation asks anonymously unless it chooses otherwise (member safety)."""
    return bool(org.low_profile)


def _reached(org_id: int) -> ColumnElement[bool]:
    """Alerts sent to one of the organisation's chats (rule T: the targets kept at Send)."""
    return Alert.id.in_(select(AlertTarget.alert_id).where(AlertTarget.org_id == org_id))


async def recent_alerts(session: AsyncSession, now: datetime, org_id: int,
                        days: int = 30) -> list[tuple[int, str]]:
    """Sent alerts a request of this organisation may relate to: the latest few of the last
    month that reached it. Why only those: an alert's title is for the organisations it was
    sent to; offering every title would show one member what the coalition told others."""
    rows = (await session.execute(
        select(Alert.id, Alert.title).where(Alert.status == AlertStatus.SENT,
                                            Alert.sent_at >= now - timedelta(days=days),
                                            _reached(org_id))
        .order_by(Alert.sent_at.desc(), Alert.id.desc()).limit(RECENT_ALERTS))).all()
    return [(int(i), str(t)) for i, t in rows]


async def alert_for_request(session: AsyncSession, alert_id: int, org_id: int) -> int | None:
    """The alert a request names, if it was sent and reached the organisation (a forged
    press may name any number)."""
    found = (await session.execute(select(Alert.id).where(
        Alert.id == alert_id, Alert.status == AlertStatus.SENT, _reached(org_id)))).scalar()
    return int(found) if found is not None else None


@dataclass(frozen=True)
class Ask:
    capacity: str
    urgency: str
    text: str
    visibility: str
    anonymous: bool
    alert_id: int | None = None

    def valid(self) -> bool:
        return (self.capacity in v.CAPACITIES and self.urgency in URGENCIES
                and self.visibility in VISIBILITIES and bool(self.text))


@dataclass(frozen=True)
class Target:
    """One chat a request goes to, for one organisation, in the chat's language choice."""

    chat_id: int
    org_id: int
    language: str
    rank: int
    timezone: str | None = None


def _states(org: Organisation) -> set[str]:
    return {a for a in (org.areas or []) if v.is_state(a)}


def closeness(asker: Organisation, org: Organisation) -> int:
    """0: they share a state; 1: the same scope; 2: the rest (matching order, closest first)."""
    if _states(asker) & _states(org):
        return 0
    if asker.scope == org.scope:
        return 1
    return 2


async def offering_orgs(session: AsyncSession, capacity: str,
                        asker: Organisation) -> list[Organisation]:
    """Active organisations that offer the capacity, never the asker, closest first."""
    orgs = [o for o in (await session.execute(
        select(Organisation).where(Organisation.status == "active",
                                   Organisation.id != asker.id))).scalars()
        if capacity in (o.capacities or [])]
    return sorted(orgs, key=lambda o: (closeness(asker, o), o.id))


async def targets_for(session: AsyncSession, capacity: str, asker: Organisation,
                      default_language: str) -> list[Target]:
    """Every chat of every organisation that offers the capacity, closest organisations first.

    An organisation is written to in its active member chats, or, with none, in its reachable
    contacts' private chats."""
    orgs = await offering_orgs(session, capacity, asker)
    if not orgs:
        return []
    ids = [o.id for o in orgs]
    groups: dict[int, list[int]] = {}
    contacts: dict[int, list[int]] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for org_id, chat_id in (await session.execute(
                select(MemberChat.org_id, MemberChat.chat_id)
                .join(Chat, Chat.id == MemberChat.chat_id)
                .where(MemberChat.org_id.in_(chunk), MemberChat.active.is_(True),
                       Chat.active.is_(True)).order_by(MemberChat.chat_id))).all():
            groups.setdefault(int(org_id), []).append(int(chat_id))
        for org_id, user_id in (await session.execute(
                select(Contact.org_id, Contact.user_id)
                .join(Person, Person.id == Contact.user_id)
                .where(Contact.org_id.in_(chunk), Person.reachable.is_(True))
                .order_by(Contact.user_id))).all():
            contacts.setdefault(int(org_id), []).append(int(user_id))
    pairs: list[tuple[Organisation, int]] = []
    for org in orgs:
        for chat_id in groups.get(org.id) or contacts.get(org.id) or []:
            pairs.append((org, chat_id))
    languages, zones = await chats_service.languages_and_zones(session, [c for _, c in pairs])
    found: list[Target] = []
    seen: set[int] = set()
    for org, chat_id in pairs:
        if chat_id in seen:
            continue
        seen.add(chat_id)
        lang = languages.get(chat_id) or org.language or default_language
        found.append(Target(chat_id, org.id, lang, closeness(asker, org), zones.get(chat_id)))
    return found


Render = Callable[[HelpRequest, Target], outbox.Outgoing]
CoordinatorRender = Callable[[HelpRequest, Organisation], list[outbox.Outgoing]]


@dataclass(frozen=True)
class Created:
    request_id: int
    orgs: int
    chats: int
    fanout_id: int | None


async def create(session: AsyncSession, org: Organisation, user_id: int, ask: Ask,
                 language: str, now: datetime, render: Render,
                 coordinators: CoordinatorRender, default_language: str) -> Created:
    """Record the request and, in the same transaction, its copies (rule D): to the
    organisations that offer the capacity when it is open to members, else to the
    coordinators; an urgent one gets its escalation row (rule S)."""
    states = sorted(_states(org))
    request = HelpRequest(
        org_id=org.id, asked_by=user_id, capacity=ask.capacity, urgency=ask.urgency,
        text=ask.text, alert_id=ask.alert_id, visibility=ask.visibility,
        anonymous=ask.anonymous, state=states[0] if states else None, language=language,
        status="open", created_at=now)
    session.add(request)
    await session.flush()
    fanout_id = None
    found: list[Target] = []
    if ask.visibility == "members":
        found = await targets_for(session, ask.capacity, org, default_language)
        if found:
            await session.execute(insert_ignore(session, HelpTarget), [
                {"request_id": request.id, "chat_id": t.chat_id, "org_id": t.org_id,
                 "rank": t.rank} for t in found])
        fanout_id = await outbox.enqueue(session, f"help:{request.id}", "help",
                                         [render(request, t) for t in found], now)
        request.fanout_id = fanout_id
    else:
        await outbox.enqueue(session, f"help.coord:{request.id}", "help.coord",
                             coordinators(request, org), now)
    if ask.urgency == "urgent":
        await schedule(session, ESCALATE_KIND, now + ESCALATE_AFTER, {"request": request.id},
                       dedupe_key=f"{ESCALATE_KIND}:{request.id}")
    return Created(request.id, len({t.org_id for t in found}), len(found), fanout_id)


async def get(session: AsyncSession, request_id: int) -> HelpRequest | None:
    return await session.get(HelpRequest, request_id)


# -- offers (rule A) -------------------------------------------------------------------------------

class Outcome(StrEnum):
    RECORDED = "recorded"            # the organisation's answer is now this one
    UNCHANGED = "unchanged"          # the same answer again (a double tap, a replay)
    STRANGER = "stranger"            # answers for no organisation the request reached
    NOT_REACHED = "not_reached"      # the request did not go to this organisation
    NEEDS_CONTACT = "needs_contact"  # offering help needs one of the organisation's contacts
    LOCKED = "locked"                # its offer was accepted already: it stands
    CLOSED = "closed"                # the request is closed
    INVALID = "invalid"              # unknown request, forged data


@dataclass(frozen=True)
class Answered:
    outcome: Outcome
    org_id: int | None = None
    new_offer: bool = False  # a *we can help* the asker has not been told about yet


async def _org_for_press(session: AsyncSession, chat_id: int, private: bool,
                         user_id: int) -> tuple[int | None, bool]:
    """Rule A: the organisation a press counts for, and whether the presser is its contact."""
    contact_org = None
    if user_id != ANONYMOUS_ADMIN_ID:
        contact_org = (await session.execute(
            select(Contact.org_id).join(Organisation, Organisation.id == Contact.org_id)
            .where(Contact.user_id == user_id, Organisation.status == "active"))).scalar()
    if private:
        return contact_org, contact_org is not None
    row = (await session.execute(
        select(MemberChat.org_id, Organisation.only_contacts_answer)
        .join(Organisation, Organisation.id == MemberChat.org_id)
        .where(MemberChat.chat_id == chat_id, MemberChat.active.is_(True),
               Organisation.status == "active"))).first()
    org_id = int(row[0]) if row else None
    is_contact = org_id is not None and contact_org == org_id
    if row is not None and row[1] and not is_contact:
        return None, False  # "only our contacts answer for us"
    return org_id, is_contact


async def answer(session: AsyncSession, request_id: int, chat_id: int, private: bool,
                 user_id: int, kind: str, now: datetime, *, intro: bool = False,
                 name: str | None = None, username: str | None = None) -> Answered:
    """Record *we can help* (optionally: introduce us) or *not now* for the organisation rule A
    names. The chat and the presser come from Telegram; data is never trusted."""
    request = await session.get(HelpRequest, request_id)
    if request is None or kind not in ANSWERS or request.visibility != "members":
        return Answered(Outcome.INVALID)
    org_id, is_contact = await _org_for_press(session, chat_id, private, user_id)
    if org_id is None:
        return Answered(Outcome.STRANGER)
    reached = (await session.execute(select(HelpTarget.org_id).where(
        HelpTarget.request_id == request_id, HelpTarget.org_id == org_id).limit(1))).scalar()
    if reached is None or org_id == request.org_id:
        return Answered(Outcome.NOT_REACHED, org_id)
    if request.status == "closed":
        return Answered(Outcome.CLOSED, org_id)
    if kind == "can_help" and not is_contact:
        return Answered(Outcome.NEEDS_CONTACT, org_id)
    existing = await session.get(HelpOffer, (request_id, org_id))
    offered_by = None if user_id == ANONYMOUS_ADMIN_ID else user_id
    keep_name = kind == "can_help" and intro
    values = {"answer": kind, "intro": keep_name, "answered_by": offered_by,
              "intro_name": (name or "")[:130] or None if keep_name else None,
              "intro_username": (username or "")[:40] or None if keep_name else None,
              "answered_at": now}
    if existing is None:
        await session.execute(insert_ignore(session, HelpOffer).values(
            request_id=request_id, org_id=org_id, status="answered", **values))
        new_offer = kind == "can_help"
    else:
        if existing.status != "answered":
            return Answered(Outcome.LOCKED, org_id)
        if (existing.answer, existing.intro, existing.answered_by) == (kind, keep_name,
                                                                        offered_by):
            return Answered(Outcome.UNCHANGED, org_id)
        new_offer = kind == "can_help" and existing.answer != "can_help"
        for key, value in values.items():
            setattr(existing, key, value)
    if kind == "can_help" and request.first_offer_at is None:
        request.first_offer_at = now
    return Answered(Outcome.RECORDED, org_id, new_offer)


async def offer_of(session: AsyncSession, request_id: int, org_id: int) -> HelpOffer | None:
    return await session.get(HelpOffer, (request_id, org_id))


async def org(session: AsyncSession, org_id: int) -> Organisation | None:
    return await session.get(Organisation, org_id)


# -- accepting -------------------------------------------------------------------------------------

class Acceptance(StrEnum):
    ACCEPTED = "accepted"
    ALREADY = "already"          # this offer was accepted before (a double tap)
    NOT_ASKER = "not_asker"      # only the asking organisation's contacts accept
    CLOSED = "closed"
    GONE = "gone"                # the offer was withdrawn (not now) or its contact forgotten
    INVALID = "invalid"


@dataclass(frozen=True)
class Accepted:
    outcome: Acceptance
    meet: str | None = None      # relay | introduce
    helper_chat: int | None = None


async def accept(session: AsyncSession, request_id: int, org_id: int, user_id: int,
                 introduce: bool, now: datetime, *, has_username: bool) -> Accepted:
    """The asking organisation accepts an offer: from now on both are in touch, in the way
    both chose (an introduction needs both to agree and both to have a username; else the bot
    relays). Nothing is relayed or introduced before this."""
    request = await session.get(HelpRequest, request_id)
    if request is None:
        return Accepted(Acceptance.INVALID)
    asker = await asker_org(session, user_id)
    if asker is None or asker.id != request.org_id:
        return Accepted(Acceptance.NOT_ASKER)
    if request.status == "closed":
        return Accepted(Acceptance.CLOSED)
    offer = await session.get(HelpOffer, (request_id, org_id))
    if offer is None:
        return Accepted(Acceptance.INVALID)
    if offer.status != "answered":
        return Accepted(Acceptance.ALREADY, offer.meet, offer.helper_chat_id)
    helper_org = await session.get(Organisation, org_id)
    if (offer.answer != "can_help" or offer.answered_by is None or helper_org is None
            or helper_org.status != "active"):
        return Accepted(Acceptance.GONE)
    meet = ("introduce" if introduce and offer.intro and offer.intro_username and has_username
            else "relay")
    won = await session.execute(update(HelpOffer).where(
        HelpOffer.request_id == request_id, HelpOffer.org_id == org_id,
        HelpOffer.status == "answered").values(
        status="accepted", meet=meet, asker_chat_id=user_id,
        helper_chat_id=offer.answered_by, accepted_at=now))
    if not won.rowcount:
        return Accepted(Acceptance.ALREADY, offer.meet, offer.helper_chat_id)
    if request.status == "open":
        request.status, request.matched_at = "matched", now
    return Accepted(Acceptance.ACCEPTED, meet, offer.answered_by)


# -- closing ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Closed:
    ok: bool
    reason: str = ""
    helper_chats: list[tuple[int, int]] = field(default_factory=list)  # (org, chat) in touch


async def close(session: AsyncSession, request_id: int, user_id: int, outcome: str,
                now: datetime) -> Closed:
    """The asking organisation closes its request (one tap); its threads end: from now on
    nothing is relayed. A second close changes nothing."""
    request = await session.get(HelpRequest, request_id)
    if request is None or outcome not in OUTCOMES:
        return Closed(False, "invalid")
    asker = await asker_org(session, user_id)
    if asker is None or asker.id != request.org_id:
        return Closed(False, "not_asker")
    won = await session.execute(update(HelpRequest).where(
        HelpRequest.id == request_id, HelpRequest.status != "closed").values(
        status="closed", outcome=outcome, closed_at=now))
    if not won.rowcount:
        return Closed(False, "already")
    rows = (await session.execute(select(HelpOffer.org_id, HelpOffer.helper_chat_id).where(
        HelpOffer.request_id == request_id, HelpOffer.status == "accepted"))).all()
    await session.execute(update(HelpOffer).where(
        HelpOffer.request_id == request_id, HelpOffer.status == "accepted")
        .values(status="ended"))
    return Closed(True, "", [(int(o), int(c)) for o, c in rows if c is not None])


# -- relaying --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Thread:
    """An accepted offer relayed between two private chats, seen from one of them."""

    request_id: int
    offer_org_id: int
    to_chat: int
    from_asker: bool  # the message comes from the asking side
    anonymous: bool
    asker_org_id: int


AMBIGUOUS = "ambiguous"


async def threads_of(session: AsyncSession, chat_id: int) -> list[Thread]:
    """The open relays this private chat is in (requests not closed)."""
    rows = (await session.execute(
        select(HelpOffer.request_id, HelpOffer.org_id, HelpOffer.asker_chat_id,
               HelpOffer.helper_chat_id, HelpRequest.anonymous, HelpRequest.org_id)
        .join(HelpRequest, HelpRequest.id == HelpOffer.request_id)
        .where(HelpOffer.status == "accepted", HelpOffer.meet == "relay",
               HelpRequest.status != "closed",
               or_(HelpOffer.asker_chat_id == chat_id, HelpOffer.helper_chat_id == chat_id))
        .order_by(HelpOffer.request_id, HelpOffer.org_id))).all()
    found = []
    for request_id, org_id, asker_chat, helper_chat, anonymous, asker_org_id in rows:
        if asker_chat is None or helper_chat is None or asker_chat == helper_chat:
            continue
        from_asker = asker_chat == chat_id
        found.append(Thread(int(request_id), int(org_id),
                            int(helper_chat if from_asker else asker_chat), from_asker,
                            bool(anonymous), int(asker_org_id)))
    return found


async def route(session: AsyncSession, chat_id: int,
                reply_to: int | None) -> Thread | str | None:
    """Where a person's message in their private chat goes: along the thread of the relayed
    copy it replies to, else along their only open thread; `AMBIGUOUS` when they are in several
    and did not say which; None when they are in none."""
    threads = await threads_of(session, chat_id)
    if not threads:
        return None
    if reply_to is not None:
        row = (await session.execute(select(HelpRelay.request_id, HelpRelay.offer_org_id).where(
            HelpRelay.to_chat_id == chat_id, HelpRelay.to_message_id == reply_to))).first()
        if row is not None:
            for thread in threads:
                if (thread.request_id, thread.offer_org_id) == (int(row[0]), int(row[1])):
                    return thread
    if len(threads) == 1:
        return threads[0]
    return AMBIGUOUS


async def record_relay(session: AsyncSession, thread: Thread, from_chat: int, message_id: int,
                       now: datetime) -> bool:
    """Note a message about to be copied across. False when its copy was already sent (a
    replayed update is not copied twice); True also when it was noted but the copy's answer
    never came (a crash in between): then it is sent again, at least once as rule D has it."""
    await session.execute(insert_ignore(session, HelpRelay).values(
        request_id=thread.request_id, offer_org_id=thread.offer_org_id, from_chat_id=from_chat,
        from_message_id=message_id, to_chat_id=thread.to_chat, at=now))
    copy_id = (await session.execute(select(HelpRelay.to_message_id).where(
        HelpRelay.from_chat_id == from_chat, HelpRelay.from_message_id == message_id))).scalar()
    return copy_id is None


async def relayed(session: AsyncSession, from_chat: int, message_id: int,
                  copy_id: int) -> None:
    await session.execute(update(HelpRelay).where(
        HelpRelay.from_chat_id == from_chat, HelpRelay.from_message_id == message_id)
        .values(to_message_id=copy_id))


# -- escalation ------------------------------------------------------------------------------------

async def escalate(session: AsyncSession, request_id: int, now: datetime,
                   coordinators: CoordinatorRender) -> bool:
    """An urgent request still open with no offer goes to the coordinators, once."""
    request = await session.get(HelpRequest, request_id)
    if request is None or request.status != "open" or request.escalated_at is not None:
        return False
    offered = (await session.execute(select(HelpOffer.org_id).where(
        HelpOffer.request_id == request_id, HelpOffer.answer == "can_help").limit(1))).scalar()
    if offered is not None:
        return False
    asker = await session.get(Organisation, request.org_id)
    if asker is None:
        return False
    request.escalated_at = now
    await outbox.enqueue(session, f"help.escalate:{request_id}", "help.escalate",
                         coordinators(request, asker), now)
    return True


# -- coordinators' view ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    request: HelpRequest
    org: Organisation | None
    offers: int
    accepted: int


async def listing(session: AsyncSession, limit: int = 20) -> list[Line]:
    """Open and matched requests first (newest first), then the latest closed ones."""
    requests = list((await session.execute(
        select(HelpRequest).order_by((HelpRequest.status == "closed"),
                                     HelpRequest.created_at.desc(), HelpRequest.id.desc())
        .limit(limit))).scalars())
    if not requests:
        return []
    ids = [r.id for r in requests]
    counts = {(int(r), str(s)): int(n) for r, s, n in (await session.execute(
        select(HelpOffer.request_id, HelpOffer.status, func.count())
        .where(HelpOffer.request_id.in_(ids), HelpOffer.answer == "can_help")
        .group_by(HelpOffer.request_id, HelpOffer.status))).all()}
    orgs = {o.id: o for o in (await session.execute(select(Organisation).where(
        Organisation.id.in_({r.org_id for r in requests})))).scalars()}
    lines = []
    for r in requests:
        offers = sum(n for (rid, _), n in counts.items() if rid == r.id)
        accepted = sum(n for (rid, s), n in counts.items() if rid == r.id and s != "answered")
        lines.append(Line(r, orgs.get(r.org_id), offers, accepted))
    return lines


@dataclass
class Measures:
    requests: int
    by_capacity: dict[str, tuple[int, int]]  # capacity -> (requests, offers)
    by_state: dict[str, tuple[int, int]]     # state (or "-") -> (requests, offers)
    median_first_offer_s: float | None
    closed: int
    helped: int
    by_status: dict[str, int]

    @property
    def helped_share(self) -> float | None:
        return self.helped / self.closed if self.closed else None


async def measures(session: AsyncSession) -> Measures:
    """For coordinators: requests and offers per capacity and per state, median time from a
    request to its first offer, and the share of closed requests closed as helped."""
    rows = (await session.execute(select(
        HelpRequest.id, HelpRequest.capacity, HelpRequest.state, HelpRequest.status,
        HelpRequest.outcome, HelpRequest.created_at, HelpRequest.first_offer_at))).all()
    offers = dict((await session.execute(
        select(HelpOffer.request_id, func.count()).where(HelpOffer.answer == "can_help")
        .group_by(HelpOffer.request_id))).all())
    by_capacity: dict[str, tuple[int, int]] = {}
    by_state: dict[str, tuple[int, int]] = {}
    by_status: dict[str, int] = {}
    waits: list[float] = []
    closed = helped = 0
    for rid, capacity, state, status, outcome, created, first in rows:
        n = int(offers.get(rid, 0))
        r, o = by_capacity.get(capacity, (0, 0))
        by_capacity[capacity] = (r + 1, o + n)
        key = state or "-"
        r, o = by_state.get(key, (0, 0))
        by_state[key] = (r + 1, o + n)
        by_status[status] = by_status.get(status, 0) + 1
        if first is not None:
            waits.append((first - created).total_seconds())
        if status == "closed":
            closed += 1
            helped += outcome == "helped"
    median = statistics.median(waits) if waits else None
    return Measures(len(rows), by_capacity, by_state, median, closed, helped, by_status)


async def counts_since(session: AsyncSession, since: datetime) -> dict[str, int]:
    """For digests: requests asked, matched and closed as helped since a time (counts only)."""
    asked = (await session.execute(select(func.count()).select_from(HelpRequest).where(
        HelpRequest.created_at >= since))).scalar_one()
    matched = (await session.execute(select(func.count()).select_from(HelpRequest).where(
        HelpRequest.matched_at >= since))).scalar_one()
    helped = (await session.execute(select(func.count()).select_from(HelpRequest).where(
        HelpRequest.closed_at >= since, HelpRequest.outcome == "helped"))).scalar_one()
    return {"asked": int(asked), "matched": int(matched), "helped": int(helped)}


# -- pairs from an alert's answers -----------------------------------------------------------------

@dataclass(frozen=True)
class Pair:
    affected: Organisation
    helpers: list[tuple[Organisation, str]]  # (organisation, capacity), closest first


async def alert_pairs(session: AsyncSession, alert_id: int) -> list[Pair]:
    """For coordinators: each organisation that answered *this affects us* with the ones that
    answered *we can help* (and with what), closest first (same state, then same scope)."""
    rows = (await session.execute(
        select(AlertAnswer.org_id, AlertAnswer.answer, AlertAnswer.capacity)
        .where(AlertAnswer.alert_id == alert_id,
               AlertAnswer.answer.in_(("affected", "can_help"))))).all()
    ids = {int(o) for o, _, _ in rows}
    if not ids:
        return []
    orgs = {o.id: o for o in (await session.execute(select(Organisation).where(
        Organisation.id.in_(ids), Organisation.status == "active"))).scalars()}
    affected = sorted((orgs[int(o)] for o, a, _ in rows if a == "affected" and int(o) in orgs),
                      key=lambda o: (o.name.lower(), o.id))
    helpers = [(orgs[int(o)], str(c or "")) for o, a, c in rows
               if a == "can_help" and int(o) in orgs]
    pairs = []
    for org_ in affected:
        ranked = sorted((h for h in helpers if h[0].id != org_.id),
                        key=lambda h: (closeness(org_, h[0]), h[0].id))
        pairs.append(Pair(org_, ranked))
    return pairs


# -- erasure and retention (rule Q) ---------------------------------------------------------------

@on_forget_person
async def forget_person(session: AsyncSession, user_id: int, now: datetime) -> None:
    """A person's requests and offers stay their organisation's; their id, name and username
    go; the relays through their private chat end, with their bookkeeping."""
    await session.execute(update(HelpRequest).where(HelpRequest.asked_by == user_id)
                          .values(asked_by=None))
    await session.execute(update(HelpOffer).where(HelpOffer.answered_by == user_id)
                          .values(answered_by=None, intro_name=None, intro_username=None))
    await session.execute(update(HelpOffer).where(
        or_(HelpOffer.asker_chat_id == user_id, HelpOffer.helper_chat_id == user_id),
        HelpOffer.status == "accepted").values(status="ended"))
    await session.execute(update(HelpOffer).where(HelpOffer.asker_chat_id == user_id)
                          .values(asker_chat_id=None))
    await session.execute(update(HelpOffer).where(HelpOffer.helper_chat_id == user_id)
                          .values(helper_chat_id=None))
    await session.execute(delete(HelpRelay).where(
        or_(HelpRelay.from_chat_id == user_id, HelpRelay.to_chat_id == user_id)))
    await session.execute(delete(HelpTarget).where(HelpTarget.chat_id == user_id))


@on_erase_org
async def erase_org(session: AsyncSession, org_id: int, now: datetime) -> None:
    """An organisation that exits leaves no request, offer, target or relay behind; the relays
    it was in end."""
    mine = select(HelpRequest.id).where(HelpRequest.org_id == org_id)
    await session.execute(delete(HelpRelay).where(or_(HelpRelay.request_id.in_(mine),
                                                      HelpRelay.offer_org_id == org_id)))
    await session.execute(delete(HelpOffer).where(or_(HelpOffer.request_id.in_(mine),
                                                      HelpOffer.org_id == org_id)))
    await session.execute(delete(HelpTarget).where(or_(HelpTarget.request_id.in_(mine),
                                                       HelpTarget.org_id == org_id)))
    await session.execute(delete(HelpRequest).where(HelpRequest.org_id == org_id))


@on_retention
async def purge_old(session: AsyncSession, cutoff: datetime) -> int:
    """Relay bookkeeping and attributions older than the retention period go; so do the
    descriptions and targets of requests closed before it (the counts stay)."""
    purged = (await session.execute(delete(HelpRelay).where(HelpRelay.at < cutoff))).rowcount \
        or 0
    purged += (await session.execute(update(HelpRequest).where(
        HelpRequest.created_at < cutoff, HelpRequest.asked_by.is_not(None))
        .values(asked_by=None))).rowcount or 0
    purged += (await session.execute(update(HelpOffer).where(
        HelpOffer.answered_at < cutoff, HelpOffer.status != "accepted",
        or_(HelpOffer.answered_by.is_not(None), HelpOffer.helper_chat_id.is_not(None)))
        .values(answered_by=None, intro_name=None, intro_username=None, asker_chat_id=None,
                helper_chat_id=None))).rowcount or 0
    old = select(HelpRequest.id).where(HelpRequest.closed_at < cutoff)
    purged += (await session.execute(delete(HelpTarget).where(
        HelpTarget.request_id.in_(old)))).rowcount or 0
    purged += (await session.execute(update(HelpRequest).where(
        HelpRequest.closed_at < cutoff, HelpRequest.text != "").values(text=""))).rowcount or 0
    return int(purged)

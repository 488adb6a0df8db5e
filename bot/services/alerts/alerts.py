"""Alerts (issue 7): what an alert is, whom it reaches (rule T), and who answers for whom (rule A).

Sessions in, data out; nothing here talks to Telegram. What an alert looks like in a chat is
decided by the caller (`render`), so the domain stays apart from the display.

Targeting (rule T, DESIGN.md): an organisation is reached when it is active, in the audience
(tier, kinds), follows one of the alert's topics (or the alert has none) and works where one of
its regions meets one of its areas (`vocabulary.meets_any`). Each reached organisation is written
to in every active member chat it has (each chat once). An organisation with no active member
chat is written to in its reachable contacts' private chats instead (docs/DESIGN.md, "Member
chat"); when it has a group, its
contacts' private chats are not targets (they read the alert in the group). The targets are
written down at Send (`alert_targets`), so answers and nudges follow what was sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Alert,
    AlertAnswer,
    AlertStranger,
    AlertTarget,
    Chat,
    Contact,
    MemberChat,
    Organisation,
    OutboxRow,
    Person,
)
from bot.db.states import AlertStatus, OutboxState
from bot.db.upsert import insert_ignore
from bot.delivery import outbox
from bot.services.safety.erasure_hooks import on_erase_org, on_forget_person, on_retention
from bot.services.shared import chats as chats_service
from bot.services.shared import vocabulary as v
from bot.services.shared.drafts import DraftStore
from bot.services.shared.roles import ANONYMOUS_ADMIN_ID

SEVERITIES = ("info", "warning", "urgent")
AUDIENCES = ("all", "members", "allies", "kinds")
ASKS = ("acknowledge", "sign_on", "affected", "can_help")
NEEDS_CONTACT = ("sign_on", "can_help")  # rule A: signing and offering help need a contact
MAX_TITLE = 200
MAX_BODY = 20_000
MAX_LINK = 500
NUDGE_HOURS = (2, 6, 24)

# A group that migrates to a supergroup keeps its alert targets (answers pressed there go on).
if (AlertTarget, "chat_id", None) not in chats_service.CHAT_REFERENCES:
    chats_service.CHAT_REFERENCES.append((AlertTarget, "chat_id", None))


# -- drafts ---------------------------------------------------------------------------------------

DRAFTS: DraftStore[Alert] = DraftStore(Alert, "composed_by")
draft_of = DRAFTS.of
update_draft = DRAFTS.update
discard_draft = DRAFTS.discard


async def new_draft(session: AsyncSession, composed_by: int, now: datetime, *,
                    title: str = "", body_es: str | None = None, body_en: str | None = None,
                    regions: Iterable[str] = (), report_id: int | None = None) -> Alert:
    """A new draft for the composer. The person's earlier drafts go: one composer is open per
    person (the conversation row), so an earlier draft was abandoned (/cancel, a new /alert)."""
    await DRAFTS.discard_all(session, composed_by)
    return await DRAFTS.add(session, Alert(
        title=title[:MAX_TITLE], body_es=body_es, body_en=body_en, severity="info", topics=[],
        regions=list(regions), audience="all", kinds=[], asks=["acknowledge"],
        composed_by=composed_by, report_id=report_id, status=AlertStatus.DRAFT, strangers_erased=0,
        created_at=now, updated_at=now))


async def get(session: AsyncSession, alert_id: int) -> Alert | None:
    return await session.get(Alert, alert_id)


def clean_title(text: str) -> str | None:
    title = " ".join(text.split())
    if not title or title.startswith("/") or len(title) > MAX_TITLE:
        return None
    return title


def clean_link(text: str) -> str | None:
    link = text.strip()
    if " " in link or len(link) > MAX_LINK or not link.lower().startswith(("https://", "http://")):
        return None
    return link


def ready(alert: Alert) -> bool:
    """Everything Send needs: a title, a body in at least one language, answers to ask."""
    return bool(alert.title and (alert.body_es or alert.body_en) and alert.severity in SEVERITIES
                and alert.audience in AUDIENCES
                and (alert.audience != "kinds" or alert.kinds))


# -- targeting (rule T) ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """One chat an alert goes to, for one organisation, in the chat's language choice."""

    chat_id: int
    org_id: int
    language: str
    protect: bool  # a low-profile organisation's chats get protected copies (member safety)
    timezone: str | None = None


@dataclass
class Reach:
    targets: list[Target]
    orgs: int
    by_language: dict[str, int] = field(default_factory=dict)  # chats per language choice
    orgs_without_chat: int = 0  # reached in their contacts' private chats


def in_audience(alert: Alert, org: Organisation) -> bool:
    if alert.audience == "members":
        return org.tier == "member"
    if alert.audience == "allies":
        return org.tier == "ally"
    if alert.audience == "kinds":
        return org.kind in (alert.kinds or [])
    return True


def reaches(alert: Alert, org: Organisation) -> bool:
    """Rule T for one organisation."""
    return (org.status == "active" and in_audience(alert, org)
            and (not alert.topics or any(t in (org.topics or []) for t in alert.topics))
            and v.meets_any(list(alert.regions or []), list(org.areas or [])))


async def reach(session: AsyncSession, alert: Alert, default_language: str) -> Reach:
    """The chats rule T names for this alert, computed in a few bulk queries (2,000 orgs)."""
    orgs = [o for o in (await session.execute(
        select(Organisation).where(Organisation.status == "active"))).scalars()
        if reaches(alert, o)]
    by_id = {o.id: o for o in orgs}
    if not by_id:
        return Reach([], 0)
    ids = list(by_id)
    group_rows: list[tuple[int, int]] = []
    contact_rows: list[tuple[int, int]] = []
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        group_rows += [(int(o), int(c)) for o, c in (await session.execute(
            select(MemberChat.org_id, MemberChat.chat_id)
            .join(Chat, Chat.id == MemberChat.chat_id)
            .where(MemberChat.org_id.in_(chunk), MemberChat.active.is_(True),
                   Chat.active.is_(True)))).all()]
        contact_rows += [(int(o), int(u)) for o, u in (await session.execute(
            select(Contact.org_id, Contact.user_id).join(Person, Person.id == Contact.user_id)
            .where(Contact.org_id.in_(chunk), Person.reachable.is_(True)))).all()]
    with_group = {o for o, _ in group_rows}
    pairs = sorted(group_rows) + sorted((o, u) for o, u in contact_rows if o not in with_group)
    languages, zones = await chats_service.languages_and_zones(session, [c for _, c in pairs])
    targets: list[Target] = []
    seen: set[int] = set()
    for org_id, chat_id in pairs:
        if chat_id in seen:
            continue
        seen.add(chat_id)
        org = by_id[org_id]
        lang = languages.get(chat_id) or org.language or default_language
        targets.append(Target(chat_id, org_id, lang, bool(org.low_profile), zones.get(chat_id)))
    by_language: dict[str, int] = {}
    for target in targets:
        by_language[target.language] = by_language.get(target.language, 0) + 1
    reached_orgs = {t.org_id for t in targets}
    return Reach(targets, len(reached_orgs), by_language,
                 len(reached_orgs - with_group))


# -- sending ---------------------------------------------------------------------------------------

Render = Callable[[Alert, Target], outbox.Outgoing]


@dataclass(frozen=True)
class Sent:
    alert_id: int
    fanout_id: int
    orgs: int
    chats: int
    first: bool  # False when this was a second Send (double tap, replayed update)


async def send(session: AsyncSession, alert_id: int, user_id: int, now: datetime,
               render: Render, default_language: str,
               report_chat_id: int | None = None, *, approving: bool = False) -> Sent | None:
    """Mark the draft sent and put one copy per target chat in the outbox, in one transaction.

    A second Send finds the alert sent and returns the first fan-out (`first=False`); None when
    the alert is unknown, someone else's draft, or not ready. `approving`: a second coordinator
    approves an alert waiting in `review` (two-person rule) — never its composer."""
    alert = await session.get(Alert, alert_id)
    if alert is None:
        return None
    if alert.status == AlertStatus.SENT and alert.fanout_id is not None:
        orgs, chats = await target_counts(session, alert_id)
        return Sent(alert_id, int(alert.fanout_id), orgs, chats, first=False)
    if approving:
        if alert.status != AlertStatus.REVIEW or alert.composed_by == user_id or not ready(alert):
            return None
    elif alert.composed_by != user_id or not ready(alert):
        return None
    won = await session.execute(update(Alert).where(
        Alert.id == alert_id,
        Alert.status == (AlertStatus.REVIEW if approving else AlertStatus.DRAFT))
        .values(status=AlertStatus.SENT, sent_at=now, updated_at=now,
                approved_by=user_id if approving else None))
    if not won.rowcount:
        return None
    found = await reach(session, alert, default_language)
    if found.targets:
        await session.execute(insert_ignore(session, AlertTarget), [
            {"alert_id": alert_id, "chat_id": t.chat_id, "org_id": t.org_id,
             "language": t.language} for t in found.targets])
    fanout_id = await outbox.enqueue(session, f"alert:{alert_id}", "alert",
                                     [render(alert, t) for t in found.targets], now,
                                     report_chat_id=report_chat_id)
    await session.execute(update(Alert).where(Alert.id == alert_id).values(fanout_id=fanout_id))
    return Sent(alert_id, fanout_id, found.orgs, len(found.targets), first=True)


async def target_counts(session: AsyncSession, alert_id: int) -> tuple[int, int]:
    orgs, chats = (await session.execute(
        select(func.count(func.distinct(AlertTarget.org_id)), func.count())
        .where(AlertTarget.alert_id == alert_id))).one()
    return int(orgs or 0), int(chats or 0)


async def silent_targets(session: AsyncSession, alert_id: int) -> list[Target]:
    """The chats of reached organisations that have not answered (the nudge's recipients)."""
    answered = select(AlertAnswer.org_id).where(AlertAnswer.alert_id == alert_id)
    rows = (await session.execute(
        select(AlertTarget.chat_id, AlertTarget.org_id, AlertTarget.language,
               Organisation.low_profile, Chat.timezone)
        .join(Organisation, Organisation.id == AlertTarget.org_id)
        .outerjoin(Chat, Chat.id == AlertTarget.chat_id)
        .where(AlertTarget.alert_id == alert_id, AlertTarget.org_id.not_in(answered),
               Organisation.status == "active")
        .order_by(AlertTarget.org_id, AlertTarget.chat_id))).all()
    return [Target(int(c), int(o), str(lang), bool(low), zone)
            for c, o, lang, low, zone in rows]


@dataclass(frozen=True)
class Nudged:
    fanout_id: int
    orgs: int
    chats: int
    first: bool


async def nudge(session: AsyncSession, alert_id: int, now: datetime, render: Render,
                report_chat_id: int | None = None) -> Nudged | None:
    """One reminder to the silent organisations' chats, once per alert (the fan-out's key makes
    a second press, a replayed update or the automatic nudge after a manual one a no-op)."""
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.status != AlertStatus.SENT or not alert.asks or alert.withdrawn_at:
        return None
    if alert.nudge_fanout_id is not None:
        return Nudged(int(alert.nudge_fanout_id), 0, 0, first=False)
    silent = await silent_targets(session, alert_id)
    fanout_id = await outbox.enqueue(session, f"alert.nudge:{alert_id}", "alert.nudge",
                                     [render(alert, t) for t in silent], now,
                                     report_chat_id=report_chat_id)
    await session.execute(update(Alert).where(Alert.id == alert_id)
                          .values(nudge_fanout_id=fanout_id, updated_at=now))
    return Nudged(fanout_id, len({t.org_id for t in silent}), len(silent), first=True)


# -- answers (rule A) ------------------------------------------------------------------------------

class Outcome(StrEnum):
    RECORDED = "recorded"          # the organisation's answer is now this one
    UNCHANGED = "unchanged"        # the same answer again (a double tap)
    ASK_CAPACITY = "ask_capacity"  # "we can help": which capacity? (nothing recorded yet)
    STRANGER = "stranger"          # thanked, counted apart
    NOT_REACHED = "not_reached"    # the alert did not go to this organisation: nothing changes
    NEEDS_CONTACT = "needs_contact"  # signing on / offering help needs one of its contacts
    INVALID = "invalid"            # unknown alert, an answer it does not ask, forged data


@dataclass(frozen=True)
class Answered:
    outcome: Outcome
    org_id: int | None = None


async def answer(session: AsyncSession, alert_id: int, chat_id: int, private: bool,
                 user_id: int, kind: str, now: datetime,
                 capacity: str | None = None) -> Answered:
    """Record a press under an alert for the organisation rule A names; data is never trusted:
    the chat and the presser come from Telegram, and an alert that did not reach the
    organisation changes nothing."""
    alert = await session.get(Alert, alert_id)
    if (alert is None or alert.status != AlertStatus.SENT or alert.withdrawn_at is not None
            or kind not in (alert.asks or [])
            or (capacity is not None and (kind != "can_help" or capacity not in v.CAPACITIES))):
        return Answered(Outcome.INVALID)
    contact_org = None
    if user_id != ANONYMOUS_ADMIN_ID:
        contact_org = (await session.execute(
            select(Contact.org_id).join(Organisation, Organisation.id == Contact.org_id)
            .where(Contact.user_id == user_id, Organisation.status == "active"))).scalar()
    if private:
        org_id = contact_org
        is_contact = org_id is not None
    else:
        row = (await session.execute(
            select(MemberChat.org_id, Organisation.only_contacts_answer)
            .join(Organisation, Organisation.id == MemberChat.org_id)
            .where(MemberChat.chat_id == chat_id, MemberChat.active.is_(True),
                   Organisation.status == "active"))).first()
        org_id = int(row[0]) if row else None
        is_contact = org_id is not None and contact_org == org_id
        if row is not None and row[1] and not is_contact:
            org_id = None  # "only our contacts answer for us"
    if org_id is None:
        await _stranger(session, alert_id, user_id, kind, now)
        return Answered(Outcome.STRANGER)
    reached = (await session.execute(select(AlertTarget.org_id).where(
        AlertTarget.alert_id == alert_id, AlertTarget.org_id == org_id).limit(1))).scalar()
    if reached is None:
        return Answered(Outcome.NOT_REACHED, org_id)
    if kind in NEEDS_CONTACT and not is_contact:
        return Answered(Outcome.NEEDS_CONTACT, org_id)
    if kind == "can_help" and capacity is None:
        return Answered(Outcome.ASK_CAPACITY, org_id)
    existing = await session.get(AlertAnswer, (alert_id, org_id))
    if existing is None:
        await session.execute(insert_ignore(session, AlertAnswer).values(
            alert_id=alert_id, org_id=org_id, answer=kind, capacity=capacity,
            answered_by=None if user_id == ANONYMOUS_ADMIN_ID else user_id, answered_at=now))
        return Answered(Outcome.RECORDED, org_id)
    if existing.answer == kind and existing.capacity == capacity:
        return Answered(Outcome.UNCHANGED, org_id)
    existing.answer, existing.capacity = kind, capacity
    existing.answered_by, existing.answered_at = user_id, now
    return Answered(Outcome.RECORDED, org_id)


async def _stranger(session: AsyncSession, alert_id: int, user_id: int, kind: str,
                    now: datetime) -> None:
    existing = await session.get(AlertStranger, (alert_id, user_id))
    if existing is None:
        await session.execute(insert_ignore(session, AlertStranger).values(
            alert_id=alert_id, user_id=user_id, answer=kind, pressed_at=now))
    else:
        existing.answer, existing.pressed_at = kind, now


# -- follow-up -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    alert_id: int
    title: str
    severity: str
    sent_at: datetime | None
    orgs: int
    chats: int
    delivered: int
    answered: int


async def recent(session: AsyncSession, limit: int = 10) -> list[Summary]:
    """The latest sent alerts with reached / delivered / answered counts."""
    alerts = list((await session.execute(
        select(Alert).where(Alert.status == AlertStatus.SENT)
        .order_by(Alert.sent_at.desc(), Alert.id.desc()).limit(limit))).scalars())
    found = []
    for alert in alerts:
        orgs, chats = await target_counts(session, alert.id)
        delivered = 0
        if alert.fanout_id is not None:
            delivered = int((await session.execute(
                select(func.count()).select_from(OutboxRow).where(
                    OutboxRow.fanout_id == alert.fanout_id, OutboxRow.state == OutboxState.SENT)))
                .scalar_one())
        answered = int((await session.execute(
            select(func.count()).select_from(AlertAnswer)
            .where(AlertAnswer.alert_id == alert.id))).scalar_one())
        found.append(Summary(alert.id, alert.title, alert.severity, alert.sent_at, orgs, chats,
                             delivered, answered))
    return found


@dataclass(frozen=True)
class OrgLine:
    org_id: int
    name: str
    low_profile: bool
    alias: str | None = None


@dataclass
class Status:
    alert: Alert
    orgs: int
    chats: int
    delivery: outbox.FanoutStatus | None
    nudge: outbox.FanoutStatus | None
    by_answer: dict[str, int]
    capacities: dict[str, int]
    by_kind: dict[str, int]
    by_state: dict[str, int]
    by_tier: dict[str, int]
    answered: int
    strangers: int
    silent: list[OrgLine]


async def status(session: AsyncSession, alert_id: int) -> Status | None:
    """One alert's follow-up for coordinators: delivery, answers, and who is silent."""
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.status != AlertStatus.SENT:
        return None
    orgs, chats = await target_counts(session, alert_id)
    delivery = await outbox.status(session, alert.fanout_id) if alert.fanout_id else None
    nudged = await outbox.status(session, alert.nudge_fanout_id) if alert.nudge_fanout_id \
        else None
    rows = (await session.execute(
        select(AlertAnswer.answer, AlertAnswer.capacity, Organisation.kind, Organisation.tier,
               Organisation.areas)
        .join(Organisation, Organisation.id == AlertAnswer.org_id)
        .where(AlertAnswer.alert_id == alert_id))).all()
    by_answer: dict[str, int] = {}
    capacities: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    by_state: dict[str, int] = {}
    by_tier: dict[str, int] = {}
    for kind, capacity, org_kind, tier, areas in rows:
        by_answer[kind] = by_answer.get(kind, 0) + 1
        if capacity:
            capacities[capacity] = capacities.get(capacity, 0) + 1
        by_kind[org_kind] = by_kind.get(org_kind, 0) + 1
        by_tier[tier] = by_tier.get(tier, 0) + 1
        for area in areas or []:
            by_state[area] = by_state.get(area, 0) + 1
    strangers = int((await session.execute(
        select(func.count()).select_from(AlertStranger)
        .where(AlertStranger.alert_id == alert_id))).scalar_one()) + int(alert.strangers_erased)
    answered = select(AlertAnswer.org_id).where(AlertAnswer.alert_id == alert_id)
    silent = [OrgLine(int(i), str(n), bool(low)) for i, n, low in (await session.execute(
        select(Organisation.id, Organisation.name, Organisation.low_profile)
        .where(Organisation.id.in_(select(AlertTarget.org_id)
                                   .where(AlertTarget.alert_id == alert_id)),
               Organisation.id.not_in(answered))
        .order_by(Organisation.name, Organisation.id))).all()]
    return Status(alert, orgs, chats, delivery, nudged, by_answer, capacities, by_kind,
                  by_state, by_tier, len(rows), strangers, silent)


async def answers(session: AsyncSession, alert_id: int) -> dict[int, tuple[str, str | None]]:
    """Each organisation's standing answer (for tests and exports): org -> (answer, capacity)."""
    rows = (await session.execute(select(AlertAnswer.org_id, AlertAnswer.answer,
                                         AlertAnswer.capacity)
                                  .where(AlertAnswer.alert_id == alert_id))).all()
    return {int(o): (a, c) for o, a, c in rows}


# -- erasure and retention (rule Q) ---------------------------------------------------------------

@on_forget_person
async def forget_person(session: AsyncSession, user_id: int, now: datetime) -> None:
    """A person's answers stay their organisation's; their name on them goes; their presses as a
    stranger are counted and deleted; their private-chat targets go."""
    await session.execute(update(AlertAnswer).where(AlertAnswer.answered_by == user_id)
                          .values(answered_by=None))
    pressed = select(AlertStranger.alert_id).where(AlertStranger.user_id == user_id)
    await session.execute(update(Alert).where(Alert.id.in_(pressed))
                          .values(strangers_erased=Alert.strangers_erased + 1))
    await session.execute(delete(AlertStranger).where(AlertStranger.user_id == user_id))
    await session.execute(update(Alert).where(Alert.composed_by == user_id)
                          .values(composed_by=None))
    await session.execute(delete(AlertTarget).where(AlertTarget.chat_id == user_id))


@on_erase_org
async def erase_org(session: AsyncSession, org_id: int, now: datetime) -> None:
    """An organisation that exits leaves no answer or target behind."""
    await session.execute(delete(AlertAnswer).where(AlertAnswer.org_id == org_id))
    await session.execute(delete(AlertTarget).where(AlertTarget.org_id == org_id))


@on_retention
async def purge_old(session: AsyncSession, cutoff: datetime) -> int:
    """Attributions older than the retention period go; so do old strangers' presses (counted),
    the targets of old alerts (chat ids) and drafts nobody sent."""
    purged = (await session.execute(
        update(AlertAnswer).where(AlertAnswer.answered_at < cutoff,
                                  AlertAnswer.answered_by.is_not(None))
        .values(answered_by=None))).rowcount or 0
    counts = (await session.execute(
        select(AlertStranger.alert_id, func.count()).where(AlertStranger.pressed_at < cutoff)
        .group_by(AlertStranger.alert_id))).all()
    for alert_id, n in counts:
        await session.execute(update(Alert).where(Alert.id == alert_id)
                              .values(strangers_erased=Alert.strangers_erased + n))
    purged += (await session.execute(delete(AlertStranger).where(
        AlertStranger.pressed_at < cutoff))).rowcount or 0
    old_alerts = select(Alert.id).where(Alert.sent_at < cutoff)
    purged += (await session.execute(delete(AlertTarget).where(
        AlertTarget.alert_id.in_(old_alerts)))).rowcount or 0
    purged += (await session.execute(update(Alert).where(
        Alert.sent_at < cutoff, Alert.composed_by.is_not(None)).values(composed_by=None)))\
        .rowcount or 0
    purged += (await session.execute(delete(Alert).where(
        Alert.status == AlertStatus.DRAFT, Alert.updated_at < cutoff))).rowcount or 0
    return int(purged)

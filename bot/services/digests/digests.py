"""Digests (issue 11): what each member chat and the coordinators get on their schedule, and when.

Why the schedule lives in rows: each chat's next digest is a scheduled row (rule S) at its next
slot in its own time zone; the row, found late (the bot was down), still runs once and covers the
whole gap since the last digest (`covered_until`), then schedules the slot after now. An hourly
planner row makes sure every eligible chat has its next row, so new member chats and restarts
need nothing else. Sessions in, data out: the words are in handlers/digests/render.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Action,
    ActionRsvp,
    ActionTarget,
    Alert,
    AlertAnswer,
    AlertTarget,
    Chat,
    Contact,
    DigestSetting,
    HelpRequest,
    MemberChat,
    Organisation,
    OutboxRow,
    Person,
    Poll,
    PollCopy,
    PollVote,
    ScheduledTask,
)
from bot.db.states import OUTBOX_LOST, AlertStatus, PollStatus
from bot.db.upsert import insert_ignore
from bot.scheduler import schedule
from bot.services.safety.erasure_hooks import on_erase_org, on_forget_person

CHAT_KIND = "digest.chat"
COORDINATORS_KIND = "digest.coordinators"
PLAN_KIND = "digest.plan"
COORDINATORS = 0  # the settings row of the coordinators' digest (no chat has id 0)
FREQUENCIES = ("daily", "weekly", "off")
DEFAULT_FREQUENCY, DEFAULT_HOUR, WEEKDAY = "weekly", 9, 0  # Monday 09:00, the chat's time zone
SILENT_DAYS, ACTIONS_DAYS, RATE_WEEKS = 30, 14, 8


@dataclass(frozen=True)
class Schedule:
    frequency: str
    hour: int
    covered_until: datetime | None


async def schedule_of(session: AsyncSession, chat_id: int) -> Schedule:
    row = await session.get(DigestSetting, chat_id)
    if row is None:
        return Schedule(DEFAULT_FREQUENCY, DEFAULT_HOUR, None)
    return Schedule(row.frequency, row.hour, row.covered_until)


def period(frequency: str) -> timedelta:
    return timedelta(days=1 if frequency == "daily" else 7)


def next_slot(after: datetime, frequency: str, hour: int, zone: str) -> datetime | None:
    """The first digest time strictly after `after`: `hour`:00 local every day, or on Mondays.

    A local time that does not exist (a daylight-saving gap) is taken as zoneinfo maps it; the
    slot is always computed from the wall clock of that day, so it keeps local time.
    """
    if frequency == "off":
        return None
    tz = ZoneInfo(zone)
    local = after.astimezone(tz)
    day: date = local.date()
    for offset in range(0, 9):
        candidate_day = day + timedelta(days=offset)
        if frequency == "weekly" and candidate_day.weekday() != WEEKDAY:
            continue
        candidate = datetime.combine(candidate_day, time(hour), tzinfo=tz)
        if candidate > local:
            return candidate.astimezone(after.tzinfo)
    raise AssertionError("a slot is always found within 8 days")


# -- who gets a digest --------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    chat_id: int
    org_id: int


async def member_recipients(session: AsyncSession) -> list[Recipient]:
    """Every active member chat of an active organisation; an organisation without one gets it
    in its reachable contacts' private chats (as its alerts do)."""
    groups = (await session.execute(
        select(MemberChat.chat_id, MemberChat.org_id)
        .join(Organisation, Organisation.id == MemberChat.org_id)
        .join(Chat, Chat.id == MemberChat.chat_id)
        .where(Organisation.status == "active", MemberChat.active.is_(True),
               Chat.active.is_(True)))).all()
    with_group = {int(o) for _, o in groups}
    contacts = (await session.execute(
        select(Contact.user_id, Contact.org_id)
        .join(Organisation, Organisation.id == Contact.org_id)
        .join(Person, Person.id == Contact.user_id)
        .where(Organisation.status == "active", Person.reachable.is_(True)))).all()
    found = [Recipient(int(c), int(o)) for c, o in groups]
    found += [Recipient(int(u), int(o)) for u, o in contacts if int(o) not in with_group]
    return sorted(found, key=lambda r: (r.org_id, r.chat_id))


async def org_of_chat(session: AsyncSession, chat_id: int) -> int | None:
    for recipient in await member_recipients(session):
        if recipient.chat_id == chat_id:
            return recipient.org_id
    return None


# -- scheduling ---------------------------------------------------------------------------------

def _key(chat_id: int, due: datetime) -> str:
    return f"digest:{chat_id}:{due:%Y%m%d%H%M}"


async def _pending_chats(session: AsyncSession) -> set[int]:
    rows = (await session.execute(select(ScheduledTask.payload).where(
        ScheduledTask.kind.in_((CHAT_KIND, COORDINATORS_KIND)),
        ScheduledTask.status.in_(("pending", "running"))))).scalars()
    return {int(p.get("chat", -1)) for p in rows}


async def plan(session: AsyncSession, now: datetime, zone_of: dict[int, str],
               default_zone: str) -> int:
    """Give every eligible chat (and the coordinators) its next digest row; returns how many
    were added. `zone_of`: chats' own time zones."""
    pending = await _pending_chats(session)
    added = 0
    chats = [r.chat_id for r in await member_recipients(session)] + [COORDINATORS]
    for chat_id in chats:
        if chat_id in pending:
            continue
        if await schedule_next(session, chat_id, now, zone_of.get(chat_id, default_zone)):
            added += 1
    return added


async def schedule_next(session: AsyncSession, chat_id: int, now: datetime,
                        zone: str) -> datetime | None:
    """Schedule the chat's next digest after now (none when it is off)."""
    setting = await schedule_of(session, chat_id)
    due = next_slot(now, setting.frequency, setting.hour, zone)
    if due is None:
        return None
    kind = COORDINATORS_KIND if chat_id == COORDINATORS else CHAT_KIND
    await schedule(session, kind, due, {"chat": chat_id}, dedupe_key=_key(chat_id, due))
    return due


async def change(session: AsyncSession, chat_id: int, now: datetime, zone: str, *,
                 frequency: str | None = None, hour: int | None = None) -> Schedule:
    """A chat's new digest schedule: its pending row goes, the next one is scheduled. Turned
    back on, the next digest covers one period, not the whole time it was off."""
    current = await schedule_of(session, chat_id)
    freq = frequency or current.frequency
    new_hour = current.hour if hour is None else hour
    covered = current.covered_until
    if current.frequency == "off" and freq != "off":
        covered = now - period(freq)
    await session.execute(insert_ignore(session, DigestSetting).values(
        chat_id=chat_id, frequency=freq, hour=new_hour, covered_until=covered, updated_at=now))
    row = await session.get(DigestSetting, chat_id)
    assert row is not None
    row.frequency, row.hour, row.covered_until, row.updated_at = freq, new_hour, covered, now
    await session.execute(delete(ScheduledTask).where(
        ScheduledTask.kind.in_((CHAT_KIND, COORDINATORS_KIND)),
        ScheduledTask.status == "pending",
        ScheduledTask.dedupe_key.like(f"digest:{chat_id}:%")))
    await schedule_next(session, chat_id, now, zone)
    return Schedule(freq, new_hour, covered)


async def still_current(session: AsyncSession, chat_id: int, due_at: datetime,
                        zone: str) -> bool:
    """Whether a digest row is for the chat's current schedule (not one changed since)."""
    setting = await schedule_of(session, chat_id)
    if setting.frequency == "off":
        return False
    expected = next_slot(due_at - timedelta(seconds=1), setting.frequency, setting.hour, zone)
    return expected == due_at


async def covered(session: AsyncSession, chat_id: int, until: datetime) -> datetime:
    """Mark a digest sent up to `until`; returns where it starts (the previous `until`, or one
    period back for a first digest)."""
    setting = await schedule_of(session, chat_id)
    since = setting.covered_until or (until - period(setting.frequency))
    await session.execute(insert_ignore(session, DigestSetting).values(
        chat_id=chat_id, frequency=setting.frequency, hour=setting.hour, covered_until=until,
        updated_at=until))
    row = await session.get(DigestSetting, chat_id)
    assert row is not None
    row.covered_until, row.updated_at = until, until
    return since


# -- what a member digest says ------------------------------------------------------------------

@dataclass
class AlertLine:
    title: str
    severity: str
    sent_at: datetime
    answer: str | None


@dataclass
class PollLine:
    question: str
    closes_at: datetime


@dataclass
class ActionLine:
    title: str
    kind: str
    starts_at: datetime
    place: str | None
    rsvp: str | None


@dataclass
class MemberDigest:
    since: datetime
    until: datetime
    alerts: list[AlertLine] = field(default_factory=list)
    polls: list[PollLine] = field(default_factory=list)
    actions: list[ActionLine] = field(default_factory=list)
    active_orgs: int = 0
    answers_week: int = 0

    @property
    def empty(self) -> bool:
        return not (self.alerts or self.polls or self.actions)


async def member_digest(session: AsyncSession, org_id: int, since: datetime,
                        until: datetime) -> MemberDigest:
    digest = MemberDigest(since=since, until=until)
    alerts = (await session.execute(
        select(Alert.id, Alert.title, Alert.severity, Alert.sent_at)
        .join(AlertTarget, AlertTarget.alert_id == Alert.id)
        .where(AlertTarget.org_id == org_id, Alert.status == AlertStatus.SENT,
               Alert.sent_at > since, Alert.sent_at <= until)
        .distinct().order_by(Alert.sent_at))).all()
    answers = dict((await session.execute(
        select(AlertAnswer.alert_id, AlertAnswer.answer)
        .where(AlertAnswer.org_id == org_id,
               AlertAnswer.alert_id.in_([a[0] for a in alerts] or [-1])))).all())
    digest.alerts = [AlertLine(str(t), str(s), at, answers.get(i)) for i, t, s, at in alerts]

    open_polls = (await session.execute(
        select(Poll.id, Poll.question, Poll.closes_at)
        .join(PollCopy, PollCopy.poll_id == Poll.id)
        .where(PollCopy.org_id == org_id, Poll.status == PollStatus.OPEN, Poll.closes_at > until)
        .distinct().order_by(Poll.closes_at))).all()
    latest: dict[int, list[int]] = {}
    for poll_id, choices in (await session.execute(
            select(PollVote.poll_id, PollVote.choices)
            .where(PollVote.org_id == org_id, PollVote.standing == "org",
                   PollVote.poll_id.in_([p[0] for p in open_polls] or [-1]))
            .order_by(PollVote.seq, PollVote.id))).all():
        latest[int(poll_id)] = list(choices or [])
    digest.polls = [PollLine(str(q), c) for i, q, c in open_polls if not latest.get(int(i))]

    horizon = until + timedelta(days=ACTIONS_DAYS)
    actions = (await session.execute(
        select(Action.id, Action.title, Action.kind, Action.starts_at, Action.place)
        .join(ActionTarget, ActionTarget.action_id == Action.id)
        .where(ActionTarget.org_id == org_id, Action.status == "scheduled",
               Action.starts_at > until, Action.starts_at <= horizon)
        .distinct().order_by(Action.starts_at))).all()
    rsvps = dict((await session.execute(
        select(ActionRsvp.action_id, ActionRsvp.answer)
        .where(ActionRsvp.org_id == org_id,
               ActionRsvp.action_id.in_([a[0] for a in actions] or [-1])))).all())
    digest.actions = [ActionLine(str(t), str(k), s, p, rsvps.get(i))
                      for i, t, k, s, p in actions]
    digest.active_orgs = int((await session.execute(
        select(func.count()).select_from(Organisation)
        .where(Organisation.status == "active"))).scalar_one())
    digest.answers_week = int((await session.execute(
        select(func.count()).select_from(AlertAnswer)
        .where(AlertAnswer.answered_at > until - timedelta(days=7),
               AlertAnswer.answered_at <= until))).scalar_one())
    return digest


# -- what the coordinators' digest says --------------------------------------------------------

@dataclass
class CoordinatorDigest:
    since: datetime
    until: datetime
    failed: int = 0
    unreachable: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    unreachable_people: int = 0
    pending: list[tuple[int, str]] = field(default_factory=list)
    silent: list[tuple[int, str]] = field(default_factory=list)
    urgent_unanswered: list[tuple[str, int]] = field(default_factory=list)
    open_requests: int = 0
    weekly_rates: list[tuple[date, float | None]] = field(default_factory=list)


async def coordinator_digest(session: AsyncSession, since: datetime,
                             until: datetime) -> CoordinatorDigest:
    digest = CoordinatorDigest(since=since, until=until)
    states = dict((await session.execute(
        select(OutboxRow.state, func.count())
        .where(OutboxRow.state.in_(OUTBOX_LOST),
               OutboxRow.updated_at > since, OutboxRow.updated_at <= until)
        .group_by(OutboxRow.state))).all())
    digest.failed, digest.unreachable = int(states.get("failed", 0)), int(
        states.get("unreachable", 0))
    digest.reasons = {str(r): int(n) for r, n in (await session.execute(
        select(OutboxRow.reason, func.count())
        .where(OutboxRow.state.in_(OUTBOX_LOST),
               OutboxRow.updated_at > since, OutboxRow.updated_at <= until)
        .group_by(OutboxRow.reason).order_by(func.count().desc()).limit(5))).all()}
    digest.unreachable_people = int((await session.execute(
        select(func.count()).select_from(Contact)
        .join(Person, Person.id == Contact.user_id, isouter=True)
        .join(Organisation, Organisation.id == Contact.org_id)
        .where(Organisation.status == "active",
               or_(Person.id.is_(None), Person.reachable.is_(False))))).scalar_one())
    digest.pending = [(int(i), str(n)) for i, n in (await session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.status == "pending")
        .order_by(Organisation.id))).all()]

    month_ago = until - timedelta(days=SILENT_DAYS)
    answered = {int(o) for o in (await session.execute(
        select(AlertAnswer.org_id).where(AlertAnswer.answered_at > month_ago))).scalars()}
    voted = {int(o) for o in (await session.execute(
        select(PollVote.org_id).where(PollVote.at > month_ago, PollVote.standing == "org",
                                      PollVote.org_id.is_not(None)))).scalars()}
    digest.silent = [(int(i), str(n)) for i, n, created in (await session.execute(
        select(Organisation.id, Organisation.name, Organisation.created_at)
        .where(Organisation.status == "active").order_by(Organisation.name))).all()
        if int(i) not in answered | voted and created <= month_ago]

    urgent = (await session.execute(
        select(Alert.id, Alert.title).where(
            Alert.status == AlertStatus.SENT, Alert.severity == "urgent", Alert.sent_at > since,
            Alert.sent_at <= until).order_by(Alert.sent_at))).all()
    for alert_id, title in urgent:
        targets = {int(o) for o in (await session.execute(
            select(AlertTarget.org_id).where(AlertTarget.alert_id == alert_id))).scalars()}
        done = {int(o) for o in (await session.execute(
            select(AlertAnswer.org_id).where(AlertAnswer.alert_id == alert_id))).scalars()}
        if targets - done:
            digest.urgent_unanswered.append((str(title), len(targets - done)))
    digest.open_requests = int((await session.execute(
        select(func.count()).select_from(HelpRequest)
        .where(HelpRequest.status.in_(("open", "matched"))))).scalar_one())
    digest.weekly_rates = await weekly_answer_rates(session, until)
    return digest


async def weekly_answer_rates(session: AsyncSession, until: datetime
                              ) -> list[tuple[date, float | None]]:
    """Per week (the last RATE_WEEKS, oldest first): answered / reached organisations for the
    alerts sent that week; None for a week without alerts."""
    start = until - timedelta(weeks=RATE_WEEKS)
    sent = (await session.execute(select(Alert.id, Alert.sent_at).where(
        Alert.status == AlertStatus.SENT, Alert.sent_at > start, Alert.sent_at <= until))).all()
    reached: dict[int, set[int]] = defaultdict(set)
    for alert_id, org_id in (await session.execute(
            select(AlertTarget.alert_id, AlertTarget.org_id)
            .where(AlertTarget.alert_id.in_([a for a, _ in sent] or [-1])))).all():
        reached[int(alert_id)].add(int(org_id))
    answered: dict[int, set[int]] = defaultdict(set)
    for alert_id, org_id in (await session.execute(
            select(AlertAnswer.alert_id, AlertAnswer.org_id)
            .where(AlertAnswer.alert_id.in_([a for a, _ in sent] or [-1])))).all():
        answered[int(alert_id)].add(int(org_id))
    weeks: list[tuple[date, float | None]] = []
    for n in range(RATE_WEEKS):
        lo = start + timedelta(weeks=n)
        hi = lo + timedelta(weeks=1)
        ids = [int(a) for a, at in sent if lo < at <= hi]
        total = sum(len(reached[a]) for a in ids)
        done = sum(len(answered[a] & reached[a]) for a in ids)
        weeks.append((lo.date(), done / total if total else None))
    return weeks


# -- erasure ------------------------------------------------------------------------------------

@on_forget_person
async def _forget_person(session: AsyncSession, user_id: int, now: datetime) -> None:
    """A private chat's digest setting is the person's."""
    del now
    await session.execute(delete(DigestSetting).where(DigestSetting.chat_id == user_id))


@on_erase_org
async def _erase_org(session: AsyncSession, org_id: int, now: datetime) -> None:
    del now
    chats = select(MemberChat.chat_id).where(MemberChat.org_id == org_id)
    await session.execute(delete(DigestSetting).where(DigestSetting.chat_id.in_(chats)))

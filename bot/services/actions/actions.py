"""Advocacy actions (issue 10): dated things the coalition does, whom they reach, who goes.

Sessions in, data out; nothing here talks to Telegram. How an action reads in a chat is decided
by the caller's `render` functions (handlers/actions/render.py and handlers/actions/copies.py).

- Targeting is rule T exactly as alerts do it (`alerts.reach`: active, audience, topics, regions
  meet areas; every active member chat, else the reachable contacts' private chats); the chats
  are written down at announce time (`action_targets`), so reminders, changes and RSVPs follow
  what was announced.
- Reminders are scheduled rows (rule S), one per offset, keyed by (action, offset, version): a
  move bumps the version, deletes the pending rows and schedules new ones, so the old time never
  fires and the new one fires once. Each reminder's fan-out has the same key, so a row that runs
  again after a crash creates its outbox rows once. A reminder found late is sent if the action
  has not started, else it is marked missed (`still_useful`).
- RSVPs follow rule A like alerts' answers: a press in a member chat counts for its organisation
  (unless only its contacts answer for it), in private for the presser's organisation if they are
  a contact; anyone else is a stranger, counted apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import dates
from bot.db.models import (
    Action,
    ActionRsvp,
    ActionStranger,
    ActionTarget,
    Chat,
    Contact,
    MemberChat,
    Organisation,
    ScheduledTask,
)
from bot.db.upsert import insert_ignore
from bot.delivery import outbox
from bot.scheduler import Due, schedule
from bot.services.alerts import alerts
from bot.services.safety.erasure_hooks import on_erase_org, on_forget_person, on_retention
from bot.services.shared import chats as chats_service
from bot.services.shared.drafts import DraftStore
from bot.services.shared.roles import ANONYMOUS_ADMIN_ID

KINDS = ("hearing", "deadline", "meeting", "sign_on", "other")
AUDIENCES = ("all", "members", "allies", "kinds")
ANSWERS = ("going", "maybe", "not_going")
DEFAULT_OFFSETS = (7 * 24 * 60, 24 * 60, 60)  # minutes before the start
OFFSET_CHOICES = (7 * 24 * 60, 3 * 24 * 60, 24 * 60, 3 * 60, 60)
MAX_TITLE = 200
MAX_TEXT = 3000
MAX_PLACE = 500
REMIND_KIND = "actions.remind"

# A group that migrates to a supergroup keeps its action targets.
if (ActionTarget, "chat_id", None) not in chats_service.CHAT_REFERENCES:
    chats_service.CHAT_REFERENCES.append((ActionTarget, "chat_id", None))


# -- local time -----------------------------------------------------------------------------------

class When(StrEnum):
    OK = "ok"
    UNREADABLE = "unreadable"
    PAST = "past"
    GAP = "gap"  # the clock skips that hour in that zone (a daylight-saving change)


def parse_local(text: str, timezone: str, now: datetime) -> tuple[When, datetime | None]:
    """A date and time written in `timezone` (bot/dates.py, the one parser), as UTC; or why it
    cannot be used. A local time that does not exist (the hour skipped when clocks go forward)
    is refused rather than guessed; an ambiguous one (the hour repeated) is the first."""
    reading = dates.parse(text, timezone, now, needs_time=True)
    if reading.when is not None:
        return When.OK, reading.when
    if reading.problem is dates.Problem.GAP:
        return When.GAP, None
    if reading.problem is dates.Problem.PAST:
        return When.PAST, None
    return When.UNREADABLE, None


def clean_title(text: str) -> str | None:
    title = " ".join(text.split())
    if not title or title.startswith("/") or len(title) > MAX_TITLE:
        return None
    return title


def clean_text(text: str, limit: int = MAX_TEXT) -> str | None:
    value = text.strip()
    if not value or value.startswith("/") or len(value) > limit:
        return None
    return value


# -- drafts ---------------------------------------------------------------------------------------

DRAFTS: DraftStore[Action] = DraftStore(Action, "created_by")
draft_of = DRAFTS.of
update_draft = DRAFTS.update
discard_draft = DRAFTS.discard


async def new_draft(session: AsyncSession, user_id: int, timezone: str, now: datetime,
                    **values: object) -> Action:
    action = Action(title="", kind="other", timezone=timezone, topics=[], regions=[],
                    audience="all", kinds=[], offsets=list(DEFAULT_OFFSETS), status="draft",
                    version=1, created_by=user_id, strangers_erased=0, created_at=now,
                    updated_at=now)
    for name, value in values.items():
        setattr(action, name, value)
    return await DRAFTS.add(session, action)


async def get(session: AsyncSession, action_id: int) -> Action | None:
    return await session.get(Action, action_id)


def ready(action: Action) -> bool:
    return bool(action.title and action.starts_at is not None and action.kind in KINDS
                and action.audience in AUDIENCES
                and (action.audience != "kinds" or bool(action.kinds)))


# -- announcing and reminders ----------------------------------------------------------------------

Render = Callable[[Action, alerts.Target], outbox.Outgoing]


@dataclass(frozen=True)
class Announced:
    action_id: int
    fanout_id: int
    orgs: int
    chats: int
    reminders: int
    first: bool  # False for a second press (double tap, replayed update)


def reminder_key(action_id: int, offset: int, version: int) -> str:
    return f"{REMIND_KIND}:{action_id}:{offset}:v{version}"


async def reach(session: AsyncSession, action: Action, default_language: str) -> alerts.Reach:
    """Rule T, the alerts' way (an action has the same audience fields as an alert)."""
    return await alerts.reach(session, action, default_language)  # type: ignore[arg-type]


async def _schedule_reminders(session: AsyncSession, action: Action, now: datetime) -> int:
    """One row per offset still ahead; offsets already past are not scheduled (the
    announcement or the change message is the news)."""
    assert action.starts_at is not None
    count = 0
    for offset in sorted(set(action.offsets or []), reverse=True):
        due = action.starts_at - timedelta(minutes=offset)
        if due <= now:
            continue
        await schedule(session, REMIND_KIND, due,
                       {"action": action.id, "offset": offset, "version": action.version,
                        "starts": action.starts_at.isoformat()},
                       dedupe_key=reminder_key(action.id, offset, action.version))
        count += 1
    return count


async def _drop_pending_reminders(session: AsyncSession, action_id: int) -> None:
    await session.execute(delete(ScheduledTask).where(
        ScheduledTask.kind == REMIND_KIND, ScheduledTask.status == "pending",
        ScheduledTask.dedupe_key.like(f"{REMIND_KIND}:{action_id}:%")))


async def announce(session: AsyncSession, action_id: int, user_id: int | None, now: datetime,
                   render: Render, default_language: str,
                   report_chat_id: int | None = None) -> Announced | None:
    """Schedule the draft: write its targets, enqueue the announcement and schedule its
    reminders, in one transaction; a second call returns the first fan-out (`first=False`)."""
    action = await session.get(Action, action_id)
    if action is None:
        return None
    if action.status != "draft" and action.fanout_id is not None:
        orgs, chats = await target_counts(session, action_id)
        return Announced(action_id, int(action.fanout_id), orgs, chats, 0, first=False)
    if (user_id is not None and action.created_by != user_id) or not ready(action):
        return None
    assert action.starts_at is not None
    if action.starts_at <= now:
        return None
    won = await session.execute(update(Action).where(Action.id == action_id,
                                                     Action.status == "draft")
                                .values(status="scheduled", announced_at=now, updated_at=now))
    if not won.rowcount:
        return None
    await session.refresh(action)
    found = await reach(session, action, default_language)
    if found.targets:
        await session.execute(insert_ignore(session, ActionTarget), [
            {"action_id": action_id, "chat_id": t.chat_id, "org_id": t.org_id}
            for t in found.targets])
    fanout_id = await outbox.enqueue(session, f"action:{action_id}", "action",
                                     [render(action, t) for t in found.targets], now,
                                     report_chat_id=report_chat_id)
    action.fanout_id = fanout_id
    reminders = await _schedule_reminders(session, action, now)
    return Announced(action_id, fanout_id, found.orgs, len(found.targets), reminders, True)


async def create(session: AsyncSession, now: datetime, render: Render, default_language: str,
                 *, title: str, starts_at: datetime, timezone: str = "UTC",
                 created_by: int | None = None, **values: object) -> Announced | None:
    """An action made and announced in one go (used by tests and imports, not by people)."""
    action = await new_draft(session, created_by or 0, timezone, now, title=title,
                             starts_at=starts_at, **values)
    action.created_by = created_by
    return await announce(session, action.id, None, now, render, default_language)


async def targets(session: AsyncSession, action_id: int,
                  orgs: Iterable[int] | None = None) -> list[alerts.Target]:
    """The chats the action was announced in (optionally only some organisations'), with each
    chat's language and time zone as they are now."""
    query = (select(ActionTarget.chat_id, ActionTarget.org_id, Organisation.language,
                    Organisation.low_profile)
             .join(Organisation, Organisation.id == ActionTarget.org_id)
             .outerjoin(Chat, Chat.id == ActionTarget.chat_id)
             .where(ActionTarget.action_id == action_id, Organisation.status == "active",
                    or_(Chat.active.is_(None), Chat.active.is_(True)))  # not a chat the bot left
             .order_by(ActionTarget.org_id, ActionTarget.chat_id))
    if orgs is not None:
        query = query.where(ActionTarget.org_id.in_(list(orgs)))
    rows = (await session.execute(query)).all()
    languages, zones = await chats_service.languages_and_zones(session, [int(r[0]) for r in rows])
    # The chat's language as every capability reads it, else the organisation's.
    return [alerts.Target(int(c), int(o), languages.get(int(c)) or org_lang or "es", bool(low),
                          zones.get(int(c)))
            for c, o, org_lang, low in rows]


async def target_counts(session: AsyncSession, action_id: int) -> tuple[int, int]:
    orgs, chats = (await session.execute(
        select(func.count(func.distinct(ActionTarget.org_id)), func.count())
        .where(ActionTarget.action_id == action_id))).one()
    return int(orgs or 0), int(chats or 0)


def still_useful(due: Due) -> bool:
    """Rule S for a reminder: worth sending late as long as the action has not started."""
    starts = due.payload.get("starts")
    if not starts:
        return False
    return due.now < datetime.fromisoformat(str(starts))


@dataclass(frozen=True)
class Reminded:
    fanout_id: int | None
    chats: int


async def remind(session: AsyncSession, payload: dict[str, object], now: datetime,
                 render: Callable[[Action, alerts.Target, int], outbox.Outgoing]) -> Reminded:
    """Run one reminder row: its fan-out, keyed by (action, offset, version), so a re-run after
    a crash adds nothing; a row of an older version (the action moved) or of a cancelled action
    sends nothing."""
    action = await session.get(Action, int(str(payload.get("action") or 0)))
    offset = int(str(payload.get("offset") or 0))
    version = int(str(payload.get("version") or 0))
    if (action is None or action.status != "scheduled" or action.version != version
            or action.starts_at is None or action.starts_at <= now):
        return Reminded(None, 0)
    found = await targets(session, action.id)
    fanout_id = await outbox.enqueue(session, reminder_key(action.id, offset, version),
                                     "action.remind", [render(action, t, offset) for t in found],
                                     now)
    return Reminded(fanout_id, len(found))


# -- changes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Changed:
    action_id: int
    fanout_id: int | None
    chats: int
    reminders: int


async def _told(session: AsyncSession, action_id: int) -> list[int]:
    """Organisations that answered going or maybe: the ones a change is told to."""
    rows = await session.execute(select(ActionRsvp.org_id).where(
        ActionRsvp.action_id == action_id, ActionRsvp.answer.in_(("going", "maybe"))))
    return [int(o) for o in rows.scalars()]


async def move(session: AsyncSession, action_id: int, starts_at: datetime, now: datetime,
               render: Callable[[Action, alerts.Target, datetime], outbox.Outgoing]) -> \
        Changed | None:
    """A new start: the version grows, pending reminders go, new ones are scheduled, and the
    organisations that answered going or maybe are told (once per version)."""
    action = await session.get(Action, action_id)
    if action is None or action.status != "scheduled" or action.starts_at is None:
        return None
    if starts_at <= now:
        return None
    before = action.starts_at
    action.starts_at, action.version, action.updated_at = starts_at, action.version + 1, now
    await _drop_pending_reminders(session, action_id)
    reminders = await _schedule_reminders(session, action, now)
    told = await targets(session, action_id, await _told(session, action_id))
    fanout_id = await outbox.enqueue(session, f"action.moved:{action_id}:v{action.version}",
                                     "action.moved", [render(action, t, before) for t in told],
                                     now)
    return Changed(action_id, fanout_id, len(told), reminders)


async def cancel(session: AsyncSession, action_id: int, now: datetime,
                 render: Callable[[Action, alerts.Target], outbox.Outgoing]) -> Changed | None:
    """Cancelled: reminders go, and the organisations that said going or maybe are told once."""
    action = await session.get(Action, action_id)
    if action is None or action.status != "scheduled":
        return None
    won = await session.execute(update(Action).where(Action.id == action_id,
                                                     Action.status == "scheduled")
                                .values(status="cancelled", updated_at=now))
    if not won.rowcount:
        return None
    await session.refresh(action)
    await _drop_pending_reminders(session, action_id)
    told = await targets(session, action_id, await _told(session, action_id))
    fanout_id = await outbox.enqueue(session, f"action.cancelled:{action_id}",
                                     "action.cancelled", [render(action, t) for t in told], now)
    return Changed(action_id, fanout_id, len(told), 0)


# -- RSVP (rule A) ---------------------------------------------------------------------------------

class Outcome(StrEnum):
    RECORDED = "recorded"
    UNCHANGED = "unchanged"
    STRANGER = "stranger"
    NOT_REACHED = "not_reached"
    INVALID = "invalid"


@dataclass(frozen=True)
class Answered:
    outcome: Outcome
    org_id: int | None = None


async def answer(session: AsyncSession, action_id: int, chat_id: int, private: bool,
                 user_id: int, value: str, now: datetime) -> Answered:
    """Record a press for the organisation rule A names; the chat and presser come from
    Telegram, never from the button's data."""
    action = await session.get(Action, action_id)
    if action is None or action.status != "scheduled" or value not in ANSWERS:
        return Answered(Outcome.INVALID)
    contact_org = None
    if user_id != ANONYMOUS_ADMIN_ID:
        contact_org = (await session.execute(
            select(Contact.org_id).join(Organisation, Organisation.id == Contact.org_id)
            .where(Contact.user_id == user_id, Organisation.status == "active"))).scalar()
    if private:
        org_id = contact_org
    else:
        row = (await session.execute(
            select(MemberChat.org_id, Organisation.only_contacts_answer)
            .join(Organisation, Organisation.id == MemberChat.org_id)
            .where(MemberChat.chat_id == chat_id, MemberChat.active.is_(True),
                   Organisation.status == "active"))).first()
        org_id = int(row[0]) if row else None
        if row is not None and row[1] and contact_org != org_id:
            org_id = None  # "only our contacts answer for us"
    if org_id is None:
        existing = await session.get(ActionStranger, (action_id, user_id))
        if existing is None:
            await session.execute(insert_ignore(session, ActionStranger).values(
                action_id=action_id, user_id=user_id, answer=value, pressed_at=now))
        else:
            existing.answer, existing.pressed_at = value, now
        return Answered(Outcome.STRANGER)
    reached = (await session.execute(select(ActionTarget.org_id).where(
        ActionTarget.action_id == action_id, ActionTarget.org_id == org_id).limit(1))).scalar()
    if reached is None:
        return Answered(Outcome.NOT_REACHED, org_id)
    by = None if user_id == ANONYMOUS_ADMIN_ID else user_id
    existing_rsvp = await session.get(ActionRsvp, (action_id, org_id))
    if existing_rsvp is None:
        await session.execute(insert_ignore(session, ActionRsvp).values(
            action_id=action_id, org_id=org_id, answer=value, answered_by=by, answered_at=now))
        return Answered(Outcome.RECORDED, org_id)
    if existing_rsvp.answer == value:
        return Answered(Outcome.UNCHANGED, org_id)
    existing_rsvp.answer, existing_rsvp.answered_by, existing_rsvp.answered_at = value, by, now
    return Answered(Outcome.RECORDED, org_id)


async def rsvps(session: AsyncSession, action_id: int) -> dict[int, str]:
    rows = await session.execute(select(ActionRsvp.org_id, ActionRsvp.answer)
                                 .where(ActionRsvp.action_id == action_id))
    return {int(o): str(a) for o, a in rows.all()}


async def counts(session: AsyncSession, action_id: int) -> tuple[dict[str, int], int]:
    """RSVPs per answer, and strangers' presses (counted apart)."""
    by = dict((await session.execute(
        select(ActionRsvp.answer, func.count()).where(ActionRsvp.action_id == action_id)
        .group_by(ActionRsvp.answer))).all())
    strangers = int((await session.execute(
        select(func.count()).select_from(ActionStranger)
        .where(ActionStranger.action_id == action_id))).scalar_one())
    action = await session.get(Action, action_id)
    erased = int(action.strangers_erased) if action is not None else 0
    return {k: int(by.get(k, 0)) for k in ANSWERS}, strangers + erased


# -- reading ---------------------------------------------------------------------------------------

async def org_for_chat(session: AsyncSession, chat_id: int, private: bool,
                       user_id: int) -> int | None:
    """The organisation a chat reads for: the member chat's, or in private the contact's."""
    if private:
        return (await session.execute(
            select(Contact.org_id).join(Organisation, Organisation.id == Contact.org_id)
            .where(Contact.user_id == user_id, Organisation.status == "active"))).scalar()
    return (await session.execute(
        select(MemberChat.org_id).join(Organisation, Organisation.id == MemberChat.org_id)
        .where(MemberChat.chat_id == chat_id, MemberChat.active.is_(True),
               Organisation.status == "active"))).scalar()


@dataclass(frozen=True)
class Upcoming:
    action: Action
    rsvp: str | None  # the reading organisation's answer (None for coordinators' list)
    counts: dict[str, int] | None = None  # coordinators only


async def upcoming(session: AsyncSession, now: datetime, org_id: int | None,
                   coordinator: bool, limit: int = 20) -> list[Upcoming]:
    """The coming scheduled actions: an organisation's (those announced to it), or all of them
    with their counts for coordinators."""
    query = (select(Action).where(Action.status == "scheduled", Action.starts_at > now)
             .order_by(Action.starts_at, Action.id).limit(limit))
    if not coordinator:
        if org_id is None:
            return []
        query = query.where(Action.id.in_(select(ActionTarget.action_id)
                                          .where(ActionTarget.org_id == org_id)))
    found = list((await session.execute(query)).scalars())
    answers: dict[int, str] = {}
    if org_id is not None and found:
        answers = {int(a): str(v) for a, v in (await session.execute(
            select(ActionRsvp.action_id, ActionRsvp.answer).where(
                ActionRsvp.org_id == org_id,
                ActionRsvp.action_id.in_([a.id for a in found])))).all()}
    result = []
    for action in found:
        tally = (await counts(session, action.id))[0] if coordinator else None
        result.append(Upcoming(action, answers.get(action.id), tally))
    return result


async def may_see(session: AsyncSession, action_id: int, org_id: int | None,
                  coordinator: bool) -> Action | None:
    """The action, if the reader may have it (its calendar file): coordinators any announced
    one; an organisation one announced to it."""
    action = await session.get(Action, action_id)
    if action is None or action.status == "draft" or action.starts_at is None:
        return None
    if coordinator:
        return action
    if org_id is None:
        return None
    reached = (await session.execute(select(ActionTarget.org_id).where(
        ActionTarget.action_id == action_id, ActionTarget.org_id == org_id).limit(1))).scalar()
    return action if reached is not None else None


# -- erasure and retention (rule Q) ---------------------------------------------------------------

@on_forget_person
async def forget_person(session: AsyncSession, user_id: int, now: datetime) -> None:
    """A person's RSVPs stay their organisation's without their id; their presses as a stranger
    are counted and deleted; their private chat is no longer a target."""
    await session.execute(update(ActionRsvp).where(ActionRsvp.answered_by == user_id)
                          .values(answered_by=None))
    pressed = select(ActionStranger.action_id).where(ActionStranger.user_id == user_id)
    await session.execute(update(Action).where(Action.id.in_(pressed))
                          .values(strangers_erased=Action.strangers_erased + 1))
    await session.execute(delete(ActionStranger).where(ActionStranger.user_id == user_id))
    await session.execute(update(Action).where(Action.created_by == user_id)
                          .values(created_by=None))
    await session.execute(delete(ActionTarget).where(ActionTarget.chat_id == user_id))


@on_erase_org
async def erase_org(session: AsyncSession, org_id: int, now: datetime) -> None:
    """An organisation that exits leaves no RSVP or target behind."""
    await session.execute(delete(ActionRsvp).where(ActionRsvp.org_id == org_id))
    await session.execute(delete(ActionTarget).where(ActionTarget.org_id == org_id))


@on_retention
async def purge_old(session: AsyncSession, cutoff: datetime) -> int:
    """Who pressed, after the retention period; strangers' old presses (counted); drafts
    nobody announced; the targets of actions long past."""
    purged = (await session.execute(
        update(ActionRsvp).where(ActionRsvp.answered_at < cutoff,
                                 ActionRsvp.answered_by.is_not(None))
        .values(answered_by=None))).rowcount or 0
    for action_id, n in (await session.execute(
            select(ActionStranger.action_id, func.count()).where(ActionStranger.pressed_at < cutoff)
            .group_by(ActionStranger.action_id))).all():
        await session.execute(update(Action).where(Action.id == action_id)
                              .values(strangers_erased=Action.strangers_erased + n))
    purged += (await session.execute(delete(ActionStranger).where(
        ActionStranger.pressed_at < cutoff))).rowcount or 0
    past = select(Action.id).where(Action.starts_at < cutoff)
    purged += (await session.execute(delete(ActionTarget).where(
        ActionTarget.action_id.in_(past)))).rowcount or 0
    purged += (await session.execute(update(Action).where(
        Action.starts_at < cutoff, Action.created_by.is_not(None)).values(created_by=None)))\
        .rowcount or 0
    purged += (await session.execute(delete(Action).where(
        Action.status == "draft", Action.updated_at < cutoff))).rowcount or 0
    return int(purged)

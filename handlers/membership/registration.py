"""Registration of organisations: /register, invitations, approvals (issue 5).

/register is a guided flow kept in the conversation row (rule C): the draft and the current step
live in the database, so a restart midway loses nothing and any instance goes on. Closed sets are
buttons; a press on a button of another step (or forged data) changes nothing. At submit the
organisation is created pending (membership.register) and the request goes through the outbox to
the coordination group, or to each reachable coordinator; the first decision wins (a conditional
update), the applicant is told once (a fan-out keyed by the organisation), and every copy of the
request is edited to show who decided.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import i18n
from bot.db import Session
from bot.db.models import Organisation
from bot.delivery import outbox
from bot.i18n import Text
from bot.services.membership import approvals, membership
from bot.services.membership.membership import Draft, MembershipError, Refusal
from bot.services.shared import chats, conversations, roles
from bot.services.shared import vocabulary as v
from bot.services.shared.roles import Role
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, anonymous_refusal, here, reply
from handlers.shared.guided import PREVIEW, Composer, Kind, Refuse, StateDrafts, Step, stale
from handlers.shared.steps import step

log = logging.getLogger(__name__)

FLOW = "register"
REJECT_FLOW = "reject"
ANSWERS = ("any", "contacts")
COPY_WAIT = 10.0  # wall seconds to wait for copies of a request still being sent


# --- button data (the flow's own buttons come from the guided-flow kit) --------------------------

@action("rs")
@dataclasses.dataclass(frozen=True)
class RegSubmit:
    pass


@action("dec")
@dataclasses.dataclass(frozen=True)
class Decide:
    """A coordinator's Approve ("a") or Reject ("r") under a registration request."""

    org: int
    verdict: str

    def valid(self) -> bool:
        return self.verdict in ("a", "r") and self.org > 0


# --- rendering ------------------------------------------------------------------------------------

def area_name(t: Text, code: str) -> str:
    return v.region_label(code, t.lang)


def answer_label(t: Text, value: str) -> str:
    if value == "any":
        return t.tr("Any member of our groups")
    return t.tr("Only our contacts")


def describe(t: Text, org: Draft | Organisation) -> list[str]:
    """The organisation's data as lines of HTML, every value escaped."""
    none = t.tr("none")
    areas = ", ".join(area_name(t, a) for a in org.areas) or none
    topics = ", ".join(t.tr(v.TOPICS[x]) for x in org.topics if x in v.TOPICS) or none
    capacities = (", ".join(t.tr(v.CAPACITIES[x]) for x in org.capacities if x in v.CAPACITIES)
                  or none)
    answer = "contacts" if org.only_contacts_answer else "any"
    return [
        t.tr("Name: <b>{value}</b>", value=org.name or ""),
        t.tr("Kind: {value}", value=t.tr(v.KINDS[org.kind]) if org.kind in v.KINDS else ""),
        t.tr("Membership: {value}", value=t.tr(v.TIERS[org.tier]) if org.tier in v.TIERS else ""),
        t.tr("Scope: {value}", value=t.tr(v.SCOPES[org.scope]) if org.scope in v.SCOPES else ""),
        t.tr("Areas: {value}", value=areas),
        t.tr("Topics: {value}", value=topics),
        t.tr("Capacities: {value}", value=capacities),
        t.tr("Language: {value}", value=i18n.language_name(org.language or "es", t.lang)),
        t.tr("Who answers for it: {value}", value=answer_label(t, answer)),
    ]


def _name(where: Here, text: str, draft: Draft) -> dict[str, object] | Refuse:
    name = membership.clean_name(text)
    if name is None:
        return Refuse(lambda t: t.tr(
            "That name cannot be used: it must have 2 to 120 characters on one line and not "
            "start with “/”."))
    return {"name": name}


def _areas(t: Text, draft: Draft) -> list[tuple[str, str]]:
    if draft.scope in ("local", "state"):
        return sorted(v.MX_STATES.items(), key=lambda kv: kv[1])
    return sorted(((c, area_name(t, c)) for c in v.LATAM), key=lambda kv: kv[1])


def _areas_question(t: Text, draft: Draft) -> str:
    if draft.scope == "national":
        return t.tr("In which country does it work?")
    if draft.scope == "regional":
        return t.tr("In which Latin American countries does it work? Choose two or more, then "
                    "press Done.")
    return t.tr("In which states of Mexico does it work? Choose one or more, then press Done.")


def _areas_done(t: Text, draft: Draft, editing: bool) -> str | None:
    if draft.scope == "regional" and len(draft.areas) < 2:
        return t.tr("Choose at least two countries first.")
    if not draft.areas:
        return t.tr("Choose at least one state first.")
    return None


def _labels(labels: dict[str, str]) -> Callable[[Text, Draft], list[tuple[str, str]]]:
    return lambda t, _: [(k, t.tr(label)) for k, label in labels.items()]


def _confirm(t: Text, draft: Draft) -> str:
    return "\n".join([t.tr("<b>Please check your registration</b>"), "", *describe(t, draft)])


STEPS = (
    Step("name", Kind.TEXT, lambda t, _: t.tr(
        "What is your organisation's name? (2 to 120 characters, or /cancel)"), parse=_name),
    Step("kind", Kind.CHOICE, lambda t, _: t.tr("What kind of organisation is it?"),
         options=_labels(v.KINDS)),
    Step("tier", Kind.CHOICE, lambda t, _: t.tr(
        "Which membership do you ask for? Full members take part in every decision; allies "
        "receive alerts and join actions."), options=_labels(v.TIERS)),
    Step("scope", Kind.CHOICE, lambda t, _: t.tr("Where does it work?"),
         options=_labels(v.SCOPES),
         pick=lambda value, draft: {"scope": value,
                                    **({"areas": []} if draft.scope != value else {})}),
    Step("areas", Kind.CHOICE, _areas_question, options=_areas,
         toggles=lambda draft: draft.scope != "national", pick=lambda value, _: {
             "areas": [value]}, per_row=3, done=_areas_done),
    Step("topics", Kind.TOGGLE, lambda t, _: t.tr(
        "Which topics does it follow? Choose any, then press Done."), options=_labels(v.TOPICS)),
    Step("capacities", Kind.TOGGLE, lambda t, _: t.tr(
        "Which capacities can it offer to other members? Choose any (or none), then press "
        "Done."), options=_labels(v.CAPACITIES)),
    Step("language", Kind.CHOICE, lambda t, _: t.tr("In which language should I write to it?"),
         options=lambda t, _: [(code, i18n.language_name(code, code)) for code in v.LANGUAGES]),
    Step("answer", Kind.CHOICE, lambda t, _: t.tr(
        "In your organisation's groups, who may answer alerts and polls for it?"),
        options=lambda t, _: [(a, answer_label(t, a)) for a in ANSWERS],
        pick=lambda value, _: {"only_contacts_answer": value == "contacts"}),
)


async def confirm(update: Update, where: Here, draft: Draft) -> None:
    """The registration as the coordinators will read it, with Submit and Cancel."""
    markup = COMPOSER.controls(where, draft, InlineKeyboardButton(
        where.t.tr("Submit"), callback_data=encode(RegSubmit())), edit=False)
    await reply(update, where, lambda t: _confirm(t, draft), markup=markup)


COMPOSER = Composer(
    FLOW, STEPS, StateDrafts(Draft.from_json, lambda draft: draft.to_json()), confirm,
    cancelled=lambda t: t.tr("Cancelled. Nothing was changed."),
    private_only=lambda t: t.tr("Registration continues in a private chat with me: press the "
                                "button below."), who=Who.ANYONE)


def refusal_text(t: Text, refusal: Refusal) -> str:
    if refusal is Refusal.ALREADY_CONTACT:
        return t.tr("You already speak for an organisation of the coalition, so you cannot "
                    "register another one.")
    if refusal is Refusal.TOO_MANY:
        return t.tr("You have sent too many registrations today. Please try again tomorrow.")
    if refusal is Refusal.UNKNOWN_INVITATION:
        return t.tr("I do not know this invitation. Please check the link, or ask for a new one.")
    if refusal is Refusal.USED_INVITATION:
        return t.tr("This invitation has already been used. Please ask for a new one.")
    if refusal is Refusal.EXPIRED_INVITATION:
        return t.tr("This invitation has expired. Please ask for a new one.")
    if refusal is Refusal.REVOKED_INVITATION:
        return t.tr("This invitation is no longer valid: it was withdrawn, or the person who "
                    "made it can no longer invite. Please ask for a new one.")
    return t.tr("This cannot be done now.")


def deep_link(where: Here, payload: str) -> str:
    return f"https://t.me/{where.rt.bot_username}?start={payload}"


# --- /register ------------------------------------------------------------------------------------

async def register_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not where.private:
        if where.anonymous:
            await reply(update, where, anonymous_refusal)
            return
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            where.t.tr("Register in a private chat"), url=deep_link(where, "register"))]])
        await reply(update, where, lambda t: t.tr(
            "Registration continues in a private chat with me: press the button below."),
            markup=markup)
        return
    await begin(update, where, Draft(), prefilled=[])


async def begin(update: Update, where: Here, draft: Draft, prefilled: list[str]) -> None:
    """Open (or restart) the flow at its first question that is not prefilled."""
    async with where.rt.db.transaction() as session:
        existing = await membership.org_of(session, where.user_id)
    if existing is not None and existing.status in ("pending", "active", "suspended"):
        await reply(update, where, lambda t: refusal_text(t, Refusal.ALREADY_CONTACT))
        return
    log.info("registration.started")
    await COMPOSER.open(update, where, {"prefilled": prefilled}, draft=draft, reason=lambda t: t.tr(
        "Let's register your organisation. I will ask a few questions; send /cancel at any time "
        "to stop, and nothing will be kept."))


@on(RegSubmit, owner=Owner.DATA)
async def submit_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: RegSubmit) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    opened = await COMPOSER.load(where) if where.private else None
    if opened is None or opened.step != PREVIEW or not membership.complete(opened.draft):
        await stale(update, where)
        return
    draft = opened.draft
    await query.answer()
    user = update.effective_user
    assert user is not None
    now = where.rt.clock.now()
    try:
        async with where.rt.db.transaction() as session:
            approved_by = None
            if draft.invitation:
                inviter = await approvals.invitation_used_by(session, draft.invitation,
                                                             where.user_id)
                # The inviter approves only while still a coordinator; else, as any
                # registration, it waits for one (a removed coordinator's link lets no one in).
                if inviter is not None and await roles.is_coordinator(
                        session, where.rt.settings.coordinator_ids, inviter.created_by):
                    approved_by = inviter.created_by
            org = await membership.register(session, draft, where.user_id, now,
                                            approved_by=approved_by)
            await conversations.finish(session, where.chat_id, where.user_id)
            if approved_by is None:
                await request_approval(session, where, org, user.first_name, now)
    except MembershipError as error:
        refused = error.refusal
        async with where.rt.db.transaction() as session:
            await conversations.finish(session, where.chat_id, where.user_id)
        log.info("registration.refused reason=%s", refused.value)
        await reply(update, where, lambda t: refusal_text(t, refused))
        return
    where.rt.wake_sender()
    log.info("registration.submitted org=%s active=%s", org.id, org.status == "active")
    summary = describe
    if org.status == "active":
        await reply(update, where, lambda t: "\n".join([
            t.tr("Welcome! <b>{name}</b> is now a member of the coalition.", name=org.name), "",
            *summary(t, org)]))
    else:
        await reply(update, where, lambda t: "\n".join([
            t.tr("Thank you. Your request for <b>{name}</b> was sent to the coordinators; I will "
                 "tell you their decision here.", name=org.name), "", *summary(t, org)]))


# --- approval ---------------------------------------------------------------------------------

def request_text(t: Text, org: Organisation, applicant: str) -> str:
    return "\n".join([
        t.tr("<b>New registration request</b> (#{id})", id=org.id),
        t.tr("Requested by {person}", person=applicant), "", *describe(t, org)])


def decision_buttons(t: Text, org_id: int) -> list[list[dict[str, str]]]:
    return [[{"text": t.tr("Approve"), "callback_data": encode(Decide(org_id, "a"))},
             {"text": t.tr("Reject"), "callback_data": encode(Decide(org_id, "r"))}]]


async def request_approval(session: Session, where: Here, org: Organisation,
                           applicant: str, now: datetime) -> None:
    """Put the request in the outbox: the coordination group, or each reachable coordinator."""
    settings = where.rt.settings
    if settings.coordination_chat_id:
        destinations = [settings.coordination_chat_id]
    else:
        destinations = await approvals.reachable_coordinators(session, settings.coordinator_ids)
    messages = []
    for chat_id in destinations:
        lang = await chats.language_of(session, chat_id, settings.default_language)
        t = Text("es" if lang == "both" else lang, settings.timezone)
        text = i18n.render(lang, settings.timezone, lambda tt: request_text(tt, org, applicant))
        messages.append(outbox.Outgoing(chat_id, text=text,
                                        buttons=decision_buttons(t, org.id)))
    fanout = await outbox.enqueue(session, f"approval:{org.id}", "approval", messages, now)
    await approvals.set_approval_fanout(session, org.id, fanout)


def decision_line(t: Text, approve: bool, decider: str) -> str:
    if approve:
        return t.tr("✅ Approved by {name}", name=decider)
    return t.tr("❌ Rejected by {name}", name=decider)


def applicant_text(t: Text, org: Organisation, approve: bool, reason: str | None) -> str:
    if approve:
        return t.tr("Good news: <b>{name}</b> was approved and is now a member of the coalition. "
                    "Send /help to see what you can do.", name=org.name)
    return t.tr("Your request for <b>{name}</b> was not approved. The coordinators' reason: "
                "{reason}", name=org.name, reason=reason or "")


async def conclude(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here, org_id: int,
                   approve: bool, reason: str | None) -> bool:
    """Record the decision (first wins), tell the applicant once, edit every copy of the request.

    Returns whether this decision won."""
    user = update.effective_user
    assert user is not None
    settings = where.rt.settings
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        won = await membership.decide(session, org_id, where.user_id, approve, now, reason)
        if not won:
            return False
        org = await approvals.organisation(session, org_id)
        assert org is not None
        applicant = org.requested_by
        if applicant is not None:
            lang = await chats.language_of(session, applicant, org.language)
            text = i18n.render(lang, settings.timezone,
                               lambda t: applicant_text(t, org, approve, reason))
            await outbox.enqueue(session, f"decision:{org_id}", "decision",
                                 [outbox.Outgoing(applicant, text=text)], now)
        fanout_id = org.approval_fanout_id
    where.rt.wake_sender()
    log.info("registration.decided org=%s approved=%s", org_id, approve)
    if fanout_id is not None:
        context.application.create_task(
            mark_copies(context, where, org_id, fanout_id, approve, user.first_name))
    return True


async def mark_copies(context: ContextTypes.DEFAULT_TYPE, where: Here, org_id: int,
                      fanout_id: int, approve: bool, decider: str) -> None:
    """Write the decision under every copy of the request (its buttons go); copies the sender
    has not recorded yet are waited for a little while, then left as they are."""
    settings = where.rt.settings
    done: set[int] = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + COPY_WAIT
    while True:
        edits: list[tuple[int, int, str]] = []
        async with where.rt.db.transaction() as session:
            copies, on_the_way = await approvals.request_copies(session, fanout_id)
            for copy in copies:
                if copy.chat_id in done:
                    continue
                lang = await chats.language_of(session, copy.chat_id,
                                                        settings.default_language)
                line = i18n.render(lang, settings.timezone,
                                   lambda t: decision_line(t, approve, decider))
                edits.append((copy.chat_id, copy.message_id, f"{copy.text}\n\n{line}"))
        for chat_id, message_id, text in edits:
            done.add(chat_id)
            try:
                await context.bot.edit_message_text(text, chat_id=chat_id,
                                                    message_id=message_id,
                                                    parse_mode=ParseMode.HTML)
            except TelegramError:
                log.info("registration.copy_not_edited org=%s", org_id)
        if not on_the_way or loop.time() > deadline:
            return
        await asyncio.sleep(0.2)


def not_coordinator(t: Text) -> str:
    return t.tr("Only coordinators can do this.")


@on(Decide, owner=Owner.DATA, who=Who.COORDINATOR)
async def decide_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: Decide) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        org = await approvals.organisation(session, pressed.org)
        waiting = org is not None and org.status == "pending"
    if not waiting:
        await query.answer(where.t.tr("This request was already decided."), show_alert=True)
        return
    if pressed.verdict == "a":
        won = await conclude(update, context, where, pressed.org, True, None)
        await query.answer(where.t.tr("Approved.") if won
                           else where.t.tr("This request was already decided."))
        return
    await query.answer()
    async with where.rt.db.transaction() as session:
        await conversations.save(session, where.chat_id, where.user_id,
                                 conversations.State(REJECT_FLOW, "reason", {"org": pressed.org}),
                                 where.rt.clock.now())
    await ask_reason(update, where)


async def ask_reason(update: Update, where: Here) -> None:
    def build(t: Text) -> str:
        return t.tr("Why is this request rejected? Your answer is sent to the applicant as it is "
                    "(or /cancel).")

    if where.private:
        await reply(update, where, build)
    else:
        placeholder = where.label(lambda t: t.tr("Reason"))
        await reply(update, where, build,
                    markup=ForceReply(selective=True, input_field_placeholder=placeholder[:64]))


@step(REJECT_FLOW, "reason")
async def answer_reason(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                        text: str) -> None:
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id,
                                            where.rt.clock.now())
    if state is None:
        return
    if where.role is not Role.COORDINATOR:
        async with where.rt.db.transaction() as session:
            await conversations.finish(session, where.chat_id, where.user_id)
        await reply(update, where, not_coordinator)
        return
    reason = text.strip()[:500]
    if not reason or reason.startswith("/"):
        await ask_reason(update, where)
        return
    won = await conclude(update, context, where, int(state.data["org"]), False, reason)
    async with where.rt.db.transaction() as session:
        await conversations.finish(session, where.chat_id, where.user_id)
    if won:
        await reply(update, where, lambda t: t.tr("Rejected. The applicant was told your reason."))
    else:
        await reply(update, where, lambda t: t.tr("This request was already decided."))


async def pending_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    if where.role is not Role.COORDINATOR:
        log.info("registration.pending_refused")
        await reply(update, where, not_coordinator)
        return
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        waiting = (await membership.pending(session))[:40]
    if not waiting:
        await reply(update, where, lambda t: t.tr("No registration is waiting for a decision."))
        return

    def build(t: Text) -> str:
        lines = [t.tr("<b>Registrations waiting for a decision</b>")]
        for n, org in enumerate(waiting, 1):
            age = t.duration((now - org.created_at).total_seconds())
            lines.append(t.tr("{n}. <b>{name}</b>: {kind}, {tier}, {scope}; waiting {age}", n=n,
                              name=org.name, kind=t.tr(v.KINDS.get(org.kind, org.kind)),
                              tier=t.tr(v.TIERS.get(org.tier, org.tier)),
                              scope=t.tr(v.SCOPES.get(org.scope, org.scope)), age=age))
        return "\n".join(lines)

    t = where.t
    rows = [[InlineKeyboardButton(t.tr("Approve {n}", n=n),
                                  callback_data=encode(Decide(o.id, "a"))),
             InlineKeyboardButton(t.tr("Reject {n}", n=n),
                                  callback_data=encode(Decide(o.id, "r")))]
            for n, o in enumerate(waiting, 1)]
    await reply(update, where, build, markup=InlineKeyboardMarkup(rows))


# --- invitations --------------------------------------------------------------------------------

async def invite_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    if not where.private:
        await reply(update, where, lambda t: t.tr("Please send /invite to me in a private chat."))
        return
    args = list(context.args or [])
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        own = await membership.org_of(session, where.user_id)
    if where.role is Role.COORDINATOR:
        tier = name = None
        if args:
            tier = args[0].lower()
            name = membership.clean_name(" ".join(args[1:])) if len(args) > 1 else None
            if tier not in v.TIERS or (len(args) > 1 and name is None):
                await reply(update, where, lambda t: t.tr(
                    "Use /invite alone, or /invite member|ally followed by the organisation's "
                    "name, e.g. /invite ally Red de Defensoras."))
                return
        async with where.rt.db.transaction() as session:
            code = await membership.create_invitation(session, where.user_id, now,
                                                      org_name=name, tier=tier)
        target = name
    elif own is not None and own.status == "active" and not args:
        async with where.rt.db.transaction() as session:
            code = await membership.create_invitation(session, where.user_id, now, org_id=own.id)
        target = own.name
    else:
        log.info("registration.invite_refused")
        if own is not None and own.status == "active":
            await reply(update, where, lambda t: t.tr(
                "Only coordinators can invite a new organisation. Send /invite alone to invite a "
                "colleague to your organisation."))
        else:
            await reply(update, where, lambda t: t.tr(
                "Only coordinators and contacts of member organisations can invite."))
        return
    log.info("registration.invitation_created")
    link = deep_link(where, f"inv_{code}")
    expires = now + membership.INVITATION_TTL

    def build(t: Text) -> str:
        head = (t.tr("Invitation for <b>{name}</b>.", name=target) if target
                else t.tr("Invitation to register an organisation."))
        return "\n".join([head, t.tr("Send this link to the person (it works once, until {date}):",
                                     date=t.moment(expires)), link])

    await reply(update, where, build)


async def start_payload(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                        payload: str) -> bool:
    """Called by /start with a deep-link payload; False when the payload is not ours."""
    if payload == "register":
        await begin(update, where, Draft(), prefilled=[])
        return True
    if not payload.startswith("inv_"):
        return False
    code = payload[4:][:40]
    now = where.rt.clock.now()
    try:
        async with where.rt.db.transaction() as session:
            existing = await membership.org_of(session, where.user_id)
            if existing is not None and existing.status in ("pending", "active", "suspended"):
                raise MembershipError(Refusal.ALREADY_CONTACT)
            invitation = await membership.redeem(session, code, where.user_id, now,
                                                 where.rt.settings.coordinator_ids)
            org_id, org_name, tier = invitation.org_id, invitation.org_name, invitation.tier
            org = await approvals.organisation(session, org_id) if org_id else None
            org_label = org.name if org is not None else ""
    except MembershipError as error:
        refused = error.refusal
        log.info("registration.invitation_refused reason=%s", refused.value)
        await reply(update, where, lambda t: refusal_text(t, refused))
        return True
    log.info("registration.invitation_redeemed")
    if org_id is not None:
        await reply(update, where, lambda t: t.tr(
            "Welcome! You are now a contact of <b>{name}</b>. Send /help to see what you can do.",
            name=org_label))
        return True
    draft = Draft(name=org_name, tier=tier if tier in v.TIERS else None, invitation=code)
    prefilled = [s for s, value in (("name", draft.name), ("tier", draft.tier)) if value]
    await begin(update, where, draft, prefilled)
    return True


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add this module's commands."""
    application.add_handler(CommandHandler("register", register_command))
    application.add_handler(CommandHandler("pending", pending_command))
    application.add_handler(CommandHandler("invite", invite_command))

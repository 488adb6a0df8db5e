"""/action (coordinators compose, announce, move and cancel advocacy actions), /upcoming, RSVP
and calendar buttons (issue 10).

The composer is a guided flow kept in the database (rule C): the conversation row names the step
and the draft action's id; the draft is the `actions` row (status draft), so a restart loses
nothing and Announce is keyed by the action's id (a double tap or a replayed update announces
once). Dates are read in the coordinator's chat time zone; a date that does not parse, lies in
the past or falls in a time-zone gap gets a clear reply and the question again.

RSVP (rule A): the organisation comes from the chat and the presser, never from the data.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import dates, i18n
from bot.dates import Problem
from bot.db.models import Action
from bot.i18n import Text
from bot.services.actions import actions
from bot.services.shared import conversations
from bot.services.shared import vocabulary as v
from bot.services.shared.roles import Role
from handlers.actions import render as r
from handlers.actions.copies import (
    CalendarPress,
    RsvpPress,
    announcement_copy,
    cancelled_copy,
    moved_copy,
)
from handlers.shared import counts, when
from handlers.shared.audience import places_step
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, anonymous_refusal, here, reply, reply_document
from handlers.shared.guided import Composer, Kind, Refuse, RowDrafts, Step, stale
from handlers.shared.steps import step

log = logging.getLogger(__name__)

FLOW = "action"
MOVE_FLOW = "action_move"


# --- button data (the composer's own buttons come from the guided-flow kit) ----------------------

@action("aca")
@dataclasses.dataclass(frozen=True)
class ActionAnnounce:
    action: int


@action("acm")
@dataclasses.dataclass(frozen=True)
class ActionMove:
    action: int


@action("ack")
@dataclasses.dataclass(frozen=True)
class ActionCancelAsk:
    action: int


@action("acy")
@dataclasses.dataclass(frozen=True)
class ActionCancelYes:
    action: int


# --- texts ----------------------------------------------------------------------------------------

def private_only(t: Text) -> str:
    return t.tr("Please compose actions in your private chat with me.")


# --- the composer, as its steps ------------------------------------------------------------------

def _title(where: Here, text: str, item: Action) -> dict[str, object] | Refuse:
    title = actions.clean_title(text)
    if title is None:
        return Refuse(lambda t: t.tr(
            "That title cannot be used: one line of up to 200 characters, not starting with "
            "“/”."))
    return {"title": title}


def _text(name: str, limit: int) -> Callable[[Here, str, Action], dict[str, object] | Refuse]:
    def parse(where: Here, text: str, item: Action) -> dict[str, object] | Refuse:
        value = actions.clean_text(text, limit)
        if value is None:
            return Refuse(lambda t: t.tr("That text cannot be used: up to {n} characters.",
                                         n=t.number(limit)))
        return {name: value}

    return parse


def _some_kinds(item: Action) -> bool:
    return item.audience == "kinds"


STEPS = (
    Step("title", Kind.TEXT, lambda t, _: t.tr(
        "<b>New advocacy action.</b> What is its title? (one line, up to 200 characters; "
        "/cancel to stop)"), parse=_title, label=i18n.N_("Title")),
    Step("description", Kind.TEXT, lambda t, _: t.tr(
        "Describe it in a message (what, why, what organisations should do), or press Skip."),
        parse=_text("description", actions.MAX_TEXT), optional=True,
        label=i18n.N_("Description")),
    Step("kind", Kind.CHOICE, lambda t, _: t.tr("What kind of action is it?"),
         options=lambda t, _: [(k, t.tr(label)) for k, label in r.KIND.items()], per_row=2,
         label=i18n.N_("Kind")),
    Step("when", Kind.TEXT, lambda t, _: t.tr(
        "When does it start? Write the date and time in your time zone ({zone}), as "
        "2026-12-31 18:00.", zone=dates.zone_name(t.timezone, t.lang)),
        label=i18n.N_("Date and time"),
        parse=when.reader("starts_at", needs_time=True, also=lambda w: {"timezone": w.timezone}),
        said=when.echo(lambda item: item.starts_at)),
    Step("place", Kind.TEXT, lambda t, _: t.tr(
        "Where? Send the place or a link, or press Skip."),
        parse=_text("place", actions.MAX_PLACE), optional=True, label=i18n.N_("Place")),
    Step("audience", Kind.CHOICE, lambda t, _: t.tr("Who should be invited?"),
         options=lambda t, _: [(k, t.tr(label)) for k, label in r.AUDIENCE.items()], per_row=2,
         then=lambda item: "kinds" if _some_kinds(item) else None,
         label=i18n.N_("Audience"), reset=lambda: {"kinds": []}),
    Step("kinds", Kind.TOGGLE, lambda t, _: t.tr(
        "Which kinds of organisation? Choose one or more, then press Done."),
        options=lambda t, _: [(k, t.tr(label)) for k, label in v.KINDS.items()], per_row=2,
        applies=_some_kinds,
        done=lambda t, item, _: None if item.kinds else t.tr("Choose at least one kind.")),
    Step("topics", Kind.TOGGLE, lambda t, _: t.tr(
        "Which topics does it concern? Organisations following one of them are invited; choose "
        "none to reach every topic. Then press Done."),
        options=lambda t, _: [(k, t.tr(label)) for k, label in v.TOPICS.items()], per_row=2,
        label=i18n.N_("Topics")),
    places_step(lambda t, _: t.tr(
        "Which regions? Press them, or type part of a name (Jalisco, Guatemala…); choose none "
        "to reach everywhere. Then press Done.")),
    Step("offsets", Kind.TOGGLE, lambda t, _: t.tr(
        "When should I remind the invited organisations? Choose, then press Done."),
        options=lambda t, _: [(str(m), r.offset_label(t, m)) for m in actions.OFFSET_CHOICES],
        keep=lambda picked: [int(x) for x in picked], per_row=2, label=i18n.N_("Reminders"),
        done=lambda t, item, _: None if item.offsets else t.tr(
            "Choose at least one reminder.")),
)


# --- /action --------------------------------------------------------------------------------------

async def action_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await COMPOSER.allowed(update, where):
        return
    async with where.rt.db.transaction() as session:
        item = await actions.new_draft(session, where.user_id, where.timezone,
                                       where.rt.clock.now())
    log.info("actions.compose_started action=%d", item.id)
    await COMPOSER.open(update, where, {"action": item.id})


# --- preview, announce ----------------------------------------------------------------------------

def scheduled(t: Text, n: int) -> i18n.Safe:
    return i18n.Safe(t.tr_plural("{n} reminder scheduled", "{n} reminders scheduled", n))


async def preview(update: Update, where: Here, item: Action) -> None:
    """The announcement as a recipient in this chat's language and zone reads it, then counts."""
    async with where.rt.db.transaction() as session:
        found = await actions.reach(session, item, where.rt.settings.default_language)
    await reply(update, where, lambda t: r.announcement_section(t, item),
                disable_web_page_preview=True)
    controls = COMPOSER.controls(where, item, InlineKeyboardButton(
        where.t.tr("Announce"), callback_data=encode(ActionAnnounce(item.id))))

    def summary(t: Text) -> str:
        reminders = ", ".join(r.offset_label(t, m) for m in sorted(item.offsets or [],
                                                                     reverse=True))
        lines = [t.tr("<b>Preview above.</b> It will invite {orgs} in {chats}.",
                      orgs=counts.orgs(t, found.orgs, bold=True),
                      chats=counts.chats(t, len(found.targets), bold=True)),
                 t.tr("Reminders: {value}", value=reminders)]
        if not found.targets:
            lines.append(t.tr("⚠️ No organisation matches: change the topics, regions or "
                               "audience."))
        return "\n".join(lines)

    await reply(update, where, summary, markup=controls)


COMPOSER = Composer(
    FLOW, STEPS, RowDrafts(actions.DRAFTS, "action"), preview,
    cancelled=lambda t: t.tr("Cancelled. The action was not announced."),
    private_only=private_only)


@on(ActionAnnounce, owner=Owner.DATA, who=Who.COORDINATOR)
async def announce_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          pressed: ActionAnnounce) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if not where.private or not await COMPOSER.sendable(where, pressed.action):
        await stale(update, where)
        return
    settings = where.rt.settings
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        done = await actions.announce(session, pressed.action, where.user_id, now,
                                      announcement_copy(settings.timezone),
                                      settings.default_language, report_chat_id=where.chat_id)
        if done is not None and done.first:
            await conversations.finish(session, where.chat_id, where.user_id)
        draft = await actions.draft_of(session, pressed.action, where.user_id) \
            if done is None else None
    if draft is not None and draft.starts_at is not None and draft.starts_at <= now:
        await query.answer(when.problem(where.t, Problem.PAST, where.timezone),
                           show_alert=True)
        return
    if done is None:
        await stale(update, where)
        return
    if not done.first:
        await query.answer(where.t.tr("This action was already announced."))
        return
    where.rt.wake_sender()
    log.info("actions.announced action=%d fanout=%d chats=%d reminders=%d", done.action_id,
             done.fanout_id, done.chats, done.reminders)
    await query.answer(where.t.tr("Announcing."))
    await reply(update, where, lambda t: t.tr(
        "Announcing the action to {orgs} in {chats}, with {reminders}. Send /upcoming to see "
        "the answers, move it or cancel it.",
        orgs=counts.orgs(t, done.orgs), chats=counts.chats(t, done.chats),
        reminders=scheduled(t, done.reminders)))



# --- move and cancel ------------------------------------------------------------------------------

def rescheduled(t: Text, n: int) -> i18n.Safe:
    return i18n.Safe(t.tr_plural("{n} reminder rescheduled", "{n} reminders rescheduled", n))


def told(t: Text, chats: int) -> i18n.Safe:
    """Who hears of a move or a cancellation: the chats of those that answered going or maybe."""
    return i18n.Safe(t.tr_plural(
        "{n} chat of organisations that answered going or maybe is told",
        "{n} chats of organisations that answered going or maybe are told", chats))


@on(ActionMove, owner=Owner.DATA, who=Who.COORDINATOR)
async def move_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: ActionMove) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if not where.private:
        await query.answer(private_only(where.t), show_alert=True)
        return
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        item = await actions.get(session, pressed.action)
        if item is not None and item.status == "scheduled":
            await conversations.save(session, where.chat_id, where.user_id, conversations.State(
                MOVE_FLOW, "when", {"action": item.id}), now)
    if item is None or item.status != "scheduled":
        await stale(update, where)
        return
    await query.answer()
    await reply(update, where, lambda t: t.tr(
        "Moving “{title}”. When does it start now? Write the date and time in your time zone "
        "({zone}), as 2026-12-31 18:00 (or /cancel).", title=item.title,
        zone=dates.zone_name(t.timezone, t.lang)))


@step(MOVE_FLOW, "when")
async def answer_move(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                      text: str) -> None:
    if where.role is not Role.COORDINATOR:
        return
    now = where.rt.clock.now()
    reading = when.read(where, text, needs_time=True)
    starts = reading.when
    if starts is None:
        found = reading.problem or Problem.UNREADABLE
        log.info("actions.when_refused reason=%s", found.value)
        await reply(update, where, lambda t: when.problem(t, found, where.timezone))
        return
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id, now)
        action_id = int((state.data if state else {}).get("action") or 0)
        changed = await actions.move(session, action_id, starts, now,
                                     moved_copy(where.rt.settings.timezone))
        await conversations.finish(session, where.chat_id, where.user_id)
    if changed is None:
        await reply(update, where, lambda t: t.tr("This action can no longer be moved."))
        return
    where.rt.wake_sender()
    log.info("actions.moved action=%d told=%d reminders=%d", changed.action_id, changed.chats,
             changed.reminders)
    await reply(update, where, lambda t: t.tr(
        "Moved to {date}. {reminders}; {told}.", date=r.when(t, starts),
        reminders=rescheduled(t, changed.reminders),
        told=told(t, changed.chats)))


@on(ActionCancelAsk, owner=Owner.DATA, who=Who.COORDINATOR)
async def cancel_ask_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                            pressed: ActionCancelAsk) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    await query.answer()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(
        where.t.tr("Yes, cancel it"), callback_data=encode(ActionCancelYes(pressed.action)))]])
    await reply(update, where, lambda t: t.tr(
        "Cancel this action? Its reminders go, and the organisations that answered going or "
        "maybe are told."), markup=markup)


@on(ActionCancelYes, owner=Owner.ITS_MESSAGE, who=Who.COORDINATOR)
async def cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: ActionCancelYes) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        changed = await actions.cancel(session, pressed.action, where.rt.clock.now(),
                                       cancelled_copy(where.rt.settings.timezone))
    if changed is None:
        await stale(update, where)
        return
    where.rt.wake_sender()
    log.info("actions.cancelled action=%d told=%d", changed.action_id, changed.chats)
    await query.answer()
    await reply(update, where, lambda t: t.tr(
        "Cancelled. Its reminders are gone; {told}.", told=told(t, changed.chats)))


# --- /upcoming and the calendar file --------------------------------------------------------------

def _short(title: str, limit: int = 28) -> str:
    return title if len(title) <= limit else title[:limit - 1] + "…"


async def upcoming_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    coordinator = where.role is Role.COORDINATOR
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        org_id = await actions.org_for_chat(session, where.chat_id, where.private,
                                            where.user_id)
        if not coordinator and org_id is None:
            found = None
        else:
            found = await actions.upcoming(session, now, org_id,
                                           coordinator and where.private)
    if found is None:
        await reply(update, where, lambda t: t.tr(
            "Only member organisations and coordinators can see the coming actions."))
        return
    if not found:
        await reply(update, where, lambda t: t.tr("No actions are coming up."))
        return
    manage = coordinator and where.private

    def build(t: Text) -> str:
        lines = [t.tr("<b>Coming actions</b>")]
        for n, item in enumerate(found, 1):
            assert item.action.starts_at is not None
            lines += ["", f"{n}. <b>{i18n.escape(item.action.title)}</b> — "
                      f"{t.tr(r.KIND.get(item.action.kind, r.KIND['other']))}",
                      r.when(t, item.action.starts_at)]
            if item.action.place:
                lines.append(t.tr("📍 Where: {place}", place=item.action.place))
            if item.rsvp:
                lines.append(t.tr("Your organisation's answer: {answer}",
                                  answer=r.answer_label(t, item.rsvp)))
            elif not manage:
                lines.append(t.tr("Your organisation has not answered yet."))
            if manage and item.counts is not None:
                lines.append(t.tr("Going {going} · maybe {maybe} · not going {no}",
                                  going=t.number(item.counts["going"]),
                                  maybe=t.number(item.counts["maybe"]),
                                  no=t.number(item.counts["not_going"])))
        return "\n".join(lines)

    t = where.t
    rows = []
    for n, item in enumerate(found, 1):
        row = [InlineKeyboardButton(f"📅 {n}. {_short(item.action.title)}",
                                    callback_data=encode(CalendarPress(item.action.id)))]
        if manage:
            row += [InlineKeyboardButton(t.tr("Move"), callback_data=encode(
                        ActionMove(item.action.id))),
                    InlineKeyboardButton(t.tr("Cancel"), callback_data=encode(
                        ActionCancelAsk(item.action.id)))]
        rows.append(row)
    await reply(update, where, build, markup=InlineKeyboardMarkup(rows),
                disable_web_page_preview=True)


@on(CalendarPress, owner=Owner.DATA)
async def calendar_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          pressed: CalendarPress) -> None:
    """The action as an .ics file in this chat, for coordinators and the organisations it was
    announced to; anyone else is told it is not for them."""
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        org_id = await actions.org_for_chat(session, where.chat_id, where.private,
                                            where.user_id)
        item = await actions.may_see(session, pressed.action, org_id,
                                     where.role is Role.COORDINATOR and not where.anonymous)
        data = r.calendar_file(item) if item is not None else None
    if item is None or data is None:
        await query.answer(where.t.tr("This action was not sent to your organisation."),
                           show_alert=True)
        return
    await query.answer()
    await reply_document(update, where, data, f"action-{item.id}.ics",
                         lambda t: t.tr("“{title}” for your calendar.", title=item.title))


# --- RSVP (rule A) --------------------------------------------------------------------------------

OUTCOME_TEXT: dict[actions.Outcome, str] = {
    actions.Outcome.RECORDED: i18n.N_("Thank you: your organisation's answer is recorded."),
    actions.Outcome.UNCHANGED: i18n.N_("Thank you: your organisation's answer is recorded."),
    actions.Outcome.STRANGER: i18n.N_("Thank you. You do not answer for an organisation this "
                                      "action was sent to, so your answer is counted apart."),
    actions.Outcome.NOT_REACHED: i18n.N_("This action was not sent to your organisation, so "
                                         "this answer is not counted."),
    actions.Outcome.INVALID: i18n.N_("This button is no longer valid."),
}


@on(RsvpPress, owner=Owner.DATA)
async def rsvp_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: RsvpPress) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        result = await actions.answer(session, pressed.action, where.chat_id, where.private,
                                      where.user_id, pressed.answer, where.rt.clock.now())
    log.info("actions.rsvp action=%d outcome=%s", pressed.action, result.outcome.value)
    await query.answer(where.t.tr(OUTCOME_TEXT[result.outcome]),
                       show_alert=result.outcome is actions.Outcome.NOT_REACHED)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("action", action_command))
    application.add_handler(CommandHandler("upcoming", upcoming_command))


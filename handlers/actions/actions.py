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
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import i18n
from bot.db.models import Action
from bot.i18n import Text
from bot.services.actions import actions
from bot.services.safety import safety
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
from handlers.shared import counts
from handlers.shared.buttons import on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, anonymous_refusal, here, reply
from handlers.shared.steps import step

log = logging.getLogger(__name__)

FLOW = "action"
MOVE_FLOW = "action_move"
ORDER = ("title", "description", "kind", "when", "place", "audience", "kinds", "topics", "regions",
         "offsets", "preview")
TEXT_STEPS = ("title", "description", "when", "place", "regions")
CHOICE_STEPS = ("kind", "audience")
TOGGLE_STEPS = ("kinds", "topics", "offsets")
SKIP_STEPS = ("description", "place", "regions", "kinds", "topics", "offsets")
EDITABLE = ("title", "description", "kind", "when", "place", "audience", "topics", "regions",
            "offsets")
FIELD_LABEL = {
    "title": i18n.N_("Title"),
    "description": i18n.N_("Description"),
    "kind": i18n.N_("Kind"),
    "when": i18n.N_("Date and time"),
    "place": i18n.N_("Place"),
    "audience": i18n.N_("Audience"),
    "topics": i18n.N_("Topics"),
    "regions": i18n.N_("Regions"),
    "offsets": i18n.N_("Reminders"),
}
REGIONS = frozenset({*v.MX_STATES, *v.LATAM})


# --- button data --------------------------------------------------------------------------------

@action("acc")
@dataclasses.dataclass(frozen=True)
class ActionChoice:
    step: str
    value: str

    def valid(self) -> bool:
        return self.step in CHOICE_STEPS and 0 < len(self.value) <= 12


@action("act")
@dataclasses.dataclass(frozen=True)
class ActionToggle:
    step: str
    value: str

    def valid(self) -> bool:
        return self.step in TOGGLE_STEPS and 0 < len(self.value) <= 24


@action("acd")
@dataclasses.dataclass(frozen=True)
class ActionDone:
    """Done or Skip on an optional step or a step of toggles."""

    step: str

    def valid(self) -> bool:
        return self.step in SKIP_STEPS


@action("aca")
@dataclasses.dataclass(frozen=True)
class ActionAnnounce:
    action: int


@action("acx")
@dataclasses.dataclass(frozen=True)
class ActionDiscard:
    action: int


@action("ace")
@dataclasses.dataclass(frozen=True)
class ActionEdit:
    action: int


@action("acf")
@dataclasses.dataclass(frozen=True)
class ActionField:
    """Which part of the draft to change (from the Edit menu)."""

    field: str

    def valid(self) -> bool:
        return self.field in EDITABLE


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

def only_coordinators(t: Text) -> str:
    return t.tr("Only coordinators can do this.")


def private_only(t: Text) -> str:
    return t.tr("Please compose actions in your private chat with me.")


def question(t: Text, name: str) -> str:
    if name == "title":
        return t.tr("<b>New advocacy action.</b> What is its title? (one line, up to 200 "
                    "characters; /cancel to stop)")
    if name == "description":
        return t.tr("Describe it in a message (what, why, what organisations should do), or "
                    "press Skip.")
    if name == "kind":
        return t.tr("What kind of action is it?")
    if name == "when":
        return t.tr("When does it start? Write the date and time in your time zone ({zone}), as "
                    "2026-12-31 18:00.", zone=t.timezone)
    if name == "place":
        return t.tr("Where? Send the place or a link, or press Skip.")
    if name == "audience":
        return t.tr("Who should be invited?")
    if name == "kinds":
        return t.tr("Which kinds of organisation? Choose one or more, then press Done.")
    if name == "topics":
        return t.tr("Which topics does it concern? Organisations following one of them are "
                    "invited; choose none to reach every topic. Then press Done.")
    if name == "regions":
        return t.tr("Which regions? Send codes separated by spaces (states like MX-JAL, countries "
                    "like MX or GT), or press Skip to reach everywhere.")
    return t.tr("When should I remind the invited organisations? Choose, then press Done.")


def when_problem(t: Text, problem: actions.When, zone: str) -> str:
    if problem is actions.When.GAP:
        return t.tr("That time does not exist in {zone}: the clocks skip it that day (a "
                    "daylight-saving change). Please choose another time.", zone=zone)
    if problem is actions.When.PAST:
        return t.tr("That moment has already passed. Please give a date and time in the future.")
    return t.tr("I could not read a date and time there. Write it as 2026-12-31 18:00.")


def options(t: Text, name: str) -> list[tuple[str, str]]:
    if name == "kind":
        return [(k, t.tr(label)) for k, label in r.KIND.items()]
    if name == "audience":
        return [(k, t.tr(label)) for k, label in r.AUDIENCE.items()]
    if name == "kinds":
        return [(k, t.tr(label)) for k, label in v.KINDS.items()]
    if name == "topics":
        return [(k, t.tr(label)) for k, label in v.TOPICS.items()]
    if name == "offsets":
        return [(str(m), r.offset_label(t, m)) for m in actions.OFFSET_CHOICES]
    return []


def chosen(name: str, item: Action) -> list[str]:
    if name in ("kinds", "topics"):
        return list(getattr(item, name) or [])
    if name == "offsets":
        return [str(m) for m in item.offsets or []]
    return []


def keyboard(where: Here, name: str, item: Action) -> InlineKeyboardMarkup | None:
    t = where.t
    if name in ("description", "place", "regions"):
        return InlineKeyboardMarkup([[InlineKeyboardButton(
            t.tr("Skip"), callback_data=encode(ActionDone(name)))]])
    choices = options(t, name)
    if not choices:
        return None
    picked = chosen(name, item)
    buttons = []
    for value, label in choices:
        if name in TOGGLE_STEPS:
            text = f"✅ {label}" if value in picked else label
            data = encode(ActionToggle(name, value))
        else:
            text, data = label, encode(ActionChoice(name, value))
        buttons.append(InlineKeyboardButton(text, callback_data=data))
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    if name in TOGGLE_STEPS:
        rows.append([InlineKeyboardButton(t.tr("Done"), callback_data=encode(ActionDone(name)))])
    return InlineKeyboardMarkup(rows)


# --- the flow's state -----------------------------------------------------------------------------

@dataclasses.dataclass
class Flow:
    step: str
    action_id: int
    editing: bool = False  # one field changed from the preview: back to the preview after it

    def state(self) -> conversations.State:
        return conversations.State(FLOW, self.step, {"action": self.action_id,
                                                     "editing": self.editing})


def next_step(current: str, item: Action, editing: bool = False) -> str:
    """The step after `current`; the kinds are asked only for a "some kinds" audience; while
    editing, back to the preview."""
    if current == "audience" and item.audience == "kinds":
        return "kinds"
    if editing:
        return "preview"
    following = ORDER[ORDER.index(current) + 1]
    if following == "kinds" and item.audience != "kinds":
        return ORDER[ORDER.index(following) + 1]
    return following


async def load(where: Here) -> tuple[Flow, Action] | None:
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id, now)
        if state is None or state.flow != FLOW:
            return None
        item = await actions.draft_of(session, int(state.data.get("action") or 0),
                                      where.user_id)
        if item is None:
            return None
    return Flow(state.step, item.id, bool(state.data.get("editing"))), item


async def save(where: Here, flow: Flow, **values: object) -> Action | None:
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        item = await actions.update_draft(session, flow.action_id, where.user_id, now, **values)
        if item is None:
            return None
        await conversations.save(session, where.chat_id, where.user_id, flow.state(), now)
    return item


async def ask(update: Update, where: Here, flow: Flow, item: Action,
              reason: Callable[[Text], str] | None = None) -> None:
    if flow.step == "preview":
        await preview(update, where, item)
        return

    def build(t: Text) -> str:
        text = question(t, flow.step)
        return f"{reason(t)}\n\n{text}" if reason else text

    await reply(update, where, build, markup=keyboard(where, flow.step, item))


async def go_on(update: Update, where: Here, flow: Flow, item: Action, **values: object) -> None:
    for name, value in values.items():
        setattr(item, name, value)
    flow.step = next_step(flow.step, item, flow.editing)
    if flow.step == "preview":
        flow.editing = False
    saved = await save(where, flow, **values)
    if saved is not None:
        await ask(update, where, flow, saved)


# --- /action --------------------------------------------------------------------------------------

async def coordinator_here(update: Update, where: Here) -> bool:
    """Rule R: a coordinator writing as themselves, in private."""
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return False
    if where.role is not Role.COORDINATOR:
        log.info("actions.refused")
        await reply(update, where, only_coordinators)
        return False
    if not where.private:
        await reply(update, where, private_only)
        return False
    return True


async def action_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await coordinator_here(update, where):
        return
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        item = await actions.new_draft(session, where.user_id, where.timezone, now)
        flow = Flow("title", item.id)
        await conversations.save(session, where.chat_id, where.user_id, flow.state(), now)
    log.info("actions.compose_started action=%d", item.id)
    await ask(update, where, flow, item)


async def loaded_step(where: Here) -> tuple[Flow, Action] | None:
    if where.role is not Role.COORDINATOR:
        return None
    return await load(where)


@step(FLOW, "title")
async def answer_title(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                       text: str) -> None:
    loaded = await loaded_step(where)
    if loaded is None:
        return
    flow, item = loaded
    title = actions.clean_title(text)
    if title is None:
        await ask(update, where, flow, item, lambda t: t.tr(
            "That title cannot be used: one line of up to 200 characters, not starting with "
            "“/”."))
        return
    await go_on(update, where, flow, item, title=title)


@step(FLOW, "description")
async def answer_description(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                             text: str) -> None:
    loaded = await loaded_step(where)
    if loaded is None:
        return
    flow, item = loaded
    value = actions.clean_text(text)
    if value is None:
        await ask(update, where, flow, item, lambda t: t.tr(
            "That text cannot be used: up to {n} characters.", n=t.number(actions.MAX_TEXT)))
        return
    await go_on(update, where, flow, item, description=value)


@step(FLOW, "when")
async def answer_when(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                      text: str) -> None:
    loaded = await loaded_step(where)
    if loaded is None:
        return
    flow, item = loaded
    problem, starts = actions.parse_local(text, where.timezone, where.rt.clock.now())
    if starts is None:
        log.info("actions.when_refused reason=%s", problem.value)
        await ask(update, where, flow, item, lambda t: when_problem(t, problem, where.timezone))
        return
    await go_on(update, where, flow, item, starts_at=starts, timezone=where.timezone)


@step(FLOW, "place")
async def answer_place(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                       text: str) -> None:
    loaded = await loaded_step(where)
    if loaded is None:
        return
    flow, item = loaded
    value = actions.clean_text(text, actions.MAX_PLACE)
    if value is None:
        await ask(update, where, flow, item, lambda t: t.tr(
            "That text cannot be used: up to {n} characters.", n=t.number(actions.MAX_PLACE)))
        return
    await go_on(update, where, flow, item, place=value)


@step(FLOW, "regions")
async def answer_regions(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                         text: str) -> None:
    loaded = await loaded_step(where)
    if loaded is None:
        return
    flow, item = loaded
    codes = [c.upper() for c in text.replace(",", " ").split()]
    unknown = [c for c in codes if c not in REGIONS]
    if not codes or unknown:
        await ask(update, where, flow, item, lambda t: t.tr(
            "I do not know these codes: {codes}.", codes=" ".join(unknown[:10]) or "—"))
        return
    await go_on(update, where, flow, item, regions=list(dict.fromkeys(codes)))


async def buttons_expected(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                           text: str) -> None:
    loaded = await loaded_step(where)
    if loaded is None:
        return
    flow, item = loaded
    await ask(update, where, flow, item, lambda t: t.tr("Please answer with the buttons."))


for _name in ORDER:
    if _name not in TEXT_STEPS:
        step(FLOW, _name)(buttons_expected)


async def stale(update: Update, where: Here) -> None:
    query = update.callback_query
    assert query is not None
    log.info("actions.stale_button")
    await query.answer(where.t.tr("This button is no longer valid."))


async def coordinator_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Here | None:
    """A coordinators' button: refused to anyone else (rule R), nothing changes."""
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if where.role is not Role.COORDINATOR:
        log.info("actions.button_refused")
        await query.answer(only_coordinators(where.t), show_alert=True)
        return None
    return where


@on(ActionChoice, ActionToggle, ActionDone)
async def composer_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          pressed: ActionChoice | ActionToggle | ActionDone) -> None:
    where = await coordinator_press(update, context)
    if where is None:
        return
    query = update.callback_query
    assert query is not None
    loaded = await load(where) if where.private else None
    if loaded is None or loaded[0].step != pressed.step:
        await stale(update, where)
        return
    flow, item = loaded
    if isinstance(pressed, ActionDone):
        if pressed.step == "offsets" and not item.offsets:
            await query.answer(where.t.tr("Choose at least one reminder."), show_alert=True)
            return
        if pressed.step == "kinds" and not item.kinds:
            await query.answer(where.t.tr("Choose at least one kind."), show_alert=True)
            return
        await query.answer()
        await go_on(update, where, flow, item)
        return
    if pressed.value not in dict(options(where.t, pressed.step)):
        await stale(update, where)
        return
    if isinstance(pressed, ActionChoice):
        await query.answer()
        await go_on(update, where, flow, item, **{pressed.step: pressed.value})
        return
    picked = chosen(pressed.step, item)
    picked = ([x for x in picked if x != pressed.value] if pressed.value in picked
              else [*picked, pressed.value])
    order = [value for value, _ in options(where.t, pressed.step)]
    picked = [x for x in order if x in picked]
    value: list[str] | list[int] = ([int(x) for x in picked] if pressed.step == "offsets"
                                    else picked)
    saved = await save(where, flow, **{pressed.step: value})
    await query.answer()
    if saved is not None and query.message is not None:
        try:
            await query.edit_message_reply_markup(keyboard(where, pressed.step, saved))
        except Exception:  # an identical redraw (a double tap) is not an error
            log.info("actions.redraw_skipped")


# --- preview, announce, discard -------------------------------------------------------------------

def scheduled(t: Text, n: int) -> i18n.Safe:
    return i18n.Safe(t.tr_plural("{n} reminder scheduled", "{n} reminders scheduled", n))


async def preview(update: Update, where: Here, item: Action) -> None:
    """The announcement as a recipient in this chat's language and zone reads it, then counts."""
    async with where.rt.db.transaction() as session:
        found = await actions.reach(session, item, where.rt.settings.default_language)
    await reply(update, where, lambda t: r.announcement_section(t, item),
                disable_web_page_preview=True)
    t = where.t
    controls = InlineKeyboardMarkup([[
        InlineKeyboardButton(t.tr("Announce"), callback_data=encode(ActionAnnounce(item.id))),
        InlineKeyboardButton(t.tr("Edit"), callback_data=encode(ActionEdit(item.id))),
        InlineKeyboardButton(t.tr("Cancel"), callback_data=encode(ActionDiscard(item.id))),
    ]])

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


@on(ActionAnnounce)
async def announce_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          pressed: ActionAnnounce) -> None:
    where = await coordinator_press(update, context)
    if where is None:
        return
    query = update.callback_query
    assert query is not None
    if not where.private:
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
        await query.answer(when_problem(where.t, actions.When.PAST, where.timezone),
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


@on(ActionDiscard)
async def discard_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: ActionDiscard) -> None:
    where = await coordinator_press(update, context)
    if where is None:
        return
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        gone = await actions.discard_draft(session, pressed.action, where.user_id)
        if gone:
            await conversations.finish(session, where.chat_id, where.user_id)
    if not gone:
        await stale(update, where)
        return
    await query.answer()
    await reply(update, where, lambda t: t.tr("Cancelled. The action was not announced."))


@on(ActionEdit)
async def edit_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: ActionEdit) -> None:
    where = await coordinator_press(update, context)
    if where is None:
        return
    query = update.callback_query
    assert query is not None
    loaded = await load(where) if where.private else None
    if loaded is None or loaded[1].id != pressed.action or loaded[0].step != "preview":
        await stale(update, where)
        return
    await query.answer()
    t = where.t
    buttons = [InlineKeyboardButton(t.tr(FIELD_LABEL[f]), callback_data=encode(ActionField(f)))
               for f in EDITABLE]
    await reply(update, where, lambda t: t.tr("What do you want to change?"),
                markup=InlineKeyboardMarkup([buttons[i:i + 3]
                                             for i in range(0, len(buttons), 3)]))


@on(ActionField)
async def field_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                       pressed: ActionField) -> None:
    where = await coordinator_press(update, context)
    if where is None:
        return
    query = update.callback_query
    assert query is not None
    loaded = await load(where) if where.private else None
    if loaded is None or loaded[0].step != "preview":
        await stale(update, where)
        return
    await query.answer()
    flow, _ = loaded
    flow.step, flow.editing = pressed.field, True
    values: dict[str, object] = {}
    if pressed.field in ("description", "place"):
        values[pressed.field] = None  # a new text replaces the old one; Skip leaves none
    if pressed.field == "regions":
        values["regions"] = []
    if pressed.field == "audience":
        values["kinds"] = []
    saved = await save(where, flow, **values)
    if saved is not None:
        await ask(update, where, flow, saved)


# --- move and cancel ------------------------------------------------------------------------------

def rescheduled(t: Text, n: int) -> i18n.Safe:
    return i18n.Safe(t.tr_plural("{n} reminder rescheduled", "{n} reminders rescheduled", n))


def told(t: Text, chats: int) -> i18n.Safe:
    """Who hears of a move or a cancellation: the chats of those that answered going or maybe."""
    return i18n.Safe(t.tr_plural(
        "{n} chat of organisations that answered going or maybe is told",
        "{n} chats of organisations that answered going or maybe are told", chats))


@on(ActionMove)
async def move_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: ActionMove) -> None:
    where = await coordinator_press(update, context)
    if where is None:
        return
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
        "({zone}), as 2026-12-31 18:00 (or /cancel).", title=item.title, zone=where.timezone))


@step(MOVE_FLOW, "when")
async def answer_move(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                      text: str) -> None:
    if where.role is not Role.COORDINATOR:
        return
    now = where.rt.clock.now()
    problem, starts = actions.parse_local(text, where.timezone, now)
    if starts is None:
        await reply(update, where, lambda t: when_problem(t, problem, where.timezone))
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


@on(ActionCancelAsk)
async def cancel_ask_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                            pressed: ActionCancelAsk) -> None:
    where = await coordinator_press(update, context)
    if where is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(
        where.t.tr("Yes, cancel it"), callback_data=encode(ActionCancelYes(pressed.action)))]])
    await reply(update, where, lambda t: t.tr(
        "Cancel this action? Its reminders go, and the organisations that answered going or "
        "maybe are told."), markup=markup)


@on(ActionCancelYes)
async def cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: ActionCancelYes) -> None:
    where = await coordinator_press(update, context)
    if where is None:
        return
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


@on(CalendarPress)
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
    sent = await context.bot.send_document(
        where.chat_id, document=data, filename=f"action-{item.id}.ics",
        caption=where.text(lambda t: t.tr("“{title}” for your calendar.", title=item.title)),
        parse_mode=ParseMode.HTML, protect_content=where.policy.protect)
    if where.policy.org_id is not None:
        async with where.rt.db.transaction() as session:
            await safety.record_sent(session, where.chat_id, sent.message_id, sent.date,
                                     where.policy)


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


@on(RsvpPress)
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


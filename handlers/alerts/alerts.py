"""/alert: coordinators compose an alert and send it; answers pressed under it (issue 7).

The composer is a guided flow kept in the database (rule C): the conversation row names the step
and the draft alert's id; the draft itself is the `alerts` row (status draft), so a restart loses
nothing and Send can be keyed by the alert's id (a double tap or a replayed update sends once).
Closed sets are buttons; a press for another step, another draft or by someone else changes
nothing. The preview is the very text a recipient in the coordinator's language gets, with the
counts rule T gives (organisations, and chats by language).

Answer buttons (rule A): the organisation is found from the chat and the presser, never from the
data; the presser gets an immediate callback answer and the alert is never edited per press.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import i18n
from bot.db.models import Alert
from bot.delivery.split import split_html
from bot.i18n import Text
from bot.services.alerts import alerts, sending, statements
from bot.services.alerts import review as alert_review
from bot.services.shared import conversations
from bot.services.shared import vocabulary as v
from bot.services.shared.roles import Role
from handlers.alerts.copies import (
    AnswerPress,
    CapacityPress,
    PreviewPress,
    alert_copy,
    answer_buttons,
    capacity_buttons,
)
from handlers.alerts.render import ASK, AUDIENCE, SEVERITY, alert_text, region_name
from handlers.alerts.review import ask_approval, urgent_flag_copy
from handlers.alerts.statements import start_signing
from handlers.shared import counts
from handlers.shared.buttons import on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, anonymous_refusal, here, reply
from handlers.shared.steps import step

log = logging.getLogger(__name__)

FLOW = sending.COMPOSER_FLOW
ORDER = ("title", "body_es", "body_en", "severity", "topics", "regions", "audience", "kinds",
         "link", "deadline", "asks", "statement_es", "statement_en", "sign_deadline",
         "min_signatures", "nudge", "preview")
STATEMENT_STEPS = ("statement_es", "statement_en", "sign_deadline", "min_signatures")
CHOICE_STEPS = ("severity", "audience", "nudge")
TOGGLE_STEPS = ("topics", "regions", "kinds", "asks")
DONE_STEPS = ("body_es", "body_en", "topics", "regions", "kinds", "link", "deadline", "asks",
              *STATEMENT_STEPS)
TEXT_STEPS = ("title", "body_es", "body_en", "link", "deadline", *STATEMENT_STEPS)
EDITABLE = ("title", "body_es", "body_en", "severity", "topics", "regions", "audience", "link",
            "deadline", "asks", *STATEMENT_STEPS)
REGIONS: tuple[str, ...] = ("MX", *sorted(v.MX_STATES, key=lambda c: v.MX_STATES[c]),
                            *[c for c in v.LATAM if c != "MX"])


# --- button data --------------------------------------------------------------------------------

@action("alc")
@dataclasses.dataclass(frozen=True)
class AlertChoice:
    step: str
    value: str

    def valid(self) -> bool:
        return self.step in CHOICE_STEPS and 0 < len(self.value) <= 12


@action("alt")
@dataclasses.dataclass(frozen=True)
class AlertToggle:
    step: str
    value: str

    def valid(self) -> bool:
        return self.step in TOGGLE_STEPS and 0 < len(self.value) <= 24


@action("ald")
@dataclasses.dataclass(frozen=True)
class AlertDone:
    """Done (or Skip) on a step that takes several messages, toggles, or is optional."""

    step: str

    def valid(self) -> bool:
        return self.step in DONE_STEPS


@action("als")
@dataclasses.dataclass(frozen=True)
class AlertSend:
    alert: int


@action("ale")
@dataclasses.dataclass(frozen=True)
class AlertEdit:
    alert: int


@action("alf")
@dataclasses.dataclass(frozen=True)
class AlertField:
    """Which part of the draft to change (from the Edit menu)."""

    field: str

    def valid(self) -> bool:
        return self.field in EDITABLE


@action("alx")
@dataclasses.dataclass(frozen=True)
class AlertCancel:
    alert: int


# --- texts --------------------------------------------------------------------------------------

def only_coordinators(t: Text) -> str:
    return t.tr("Only coordinators can do this.")


def private_only(t: Text) -> str:
    return t.tr("Please compose alerts in your private chat with me.")


NUDGE_CHOICES = ("0", *(str(h) for h in alerts.NUDGE_HOURS))


def nudge_label(t: Text, value: str) -> str:
    if value == "0":
        return t.tr("No automatic reminder")
    return t.tr_plural("Remind the silent ones after {n} hour",
                       "Remind the silent ones after {n} hours", int(value))


def question(t: Text, name: str, alert: Alert) -> str:
    if name == "title":
        return t.tr("<b>New alert.</b> What is its title? (one line, up to 200 characters; /cancel "
                    "to stop)")
    if name == "body_es":
        return t.tr("Send the text in <b>Spanish</b>. You may send several messages: they are "
                    "joined. Press Done when it is complete (or Done right away if there is no "
                    "Spanish text).")
    if name == "body_en":
        return t.tr("Send the text in <b>English</b>, in one or several messages, then press Done "
                    "(or Done right away if there is no English text: English chats then get the "
                    "Spanish one).")
    if name == "severity":
        return t.tr("How serious is it?")
    if name == "topics":
        return t.tr("Which topics does it concern? Organisations following one of them get it; "
                    "choose none to reach every topic. Then press Done.")
    if name == "regions":
        return t.tr("Which regions does it concern? Choose none to reach everywhere. Then press "
                    "Done.")
    if name == "audience":
        return t.tr("Who should get it?")
    if name == "kinds":
        return t.tr("Which kinds of organisation? Choose one or more, then press Done.")
    if name == "link":
        return t.tr("Send a link for more information (https://…), or press Skip.")
    if name == "deadline":
        return t.tr("Is there a deadline? Send it as 2026-12-31 or 2026-12-31 18:00 (your time "
                    "zone), or press Skip.")
    if name == "asks":
        return t.tr("Which answers should organisations give? Choose any, then press Done.")
    if name == "statement_es":
        return t.tr("“We sign on” is asked: send the <b>statement</b> organisations sign, in "
                    "<b>Spanish</b> (several messages are joined), then press Done. Press Done "
                    "right away for no Spanish statement (with no statement at all, “We sign on” "
                    "is an answer like the others).")
    if name == "statement_en":
        return t.tr("The statement in <b>English</b>, then Done (Done right away: English chats "
                    "get the Spanish one).")
    if name == "sign_deadline":
        return t.tr("Until when can organisations sign? Send it as 2026-12-31 or 2026-12-31 18:00 "
                    "(your time zone), or press Skip.")
    if name == "min_signatures":
        return t.tr("How many signatures must there be before the statement is published? Send a "
                    "number, or press Skip (one is enough).")
    return t.tr("Should I remind the organisations that have not answered, automatically?")


def options(t: Text, name: str) -> list[tuple[str, str]]:
    if name == "severity":
        return [(k, t.tr(label)) for k, label in SEVERITY.items()]
    if name == "topics":
        return [(k, t.tr(label)) for k, label in v.TOPICS.items()]
    if name == "regions":
        return [(c, t.tr("All of Mexico") if c == "MX" else region_name(t, c)) for c in REGIONS]
    if name == "audience":
        return [(k, t.tr(label)) for k, label in AUDIENCE.items()]
    if name == "kinds":
        return [(k, t.tr(label)) for k, label in v.KINDS.items()]
    if name == "asks":
        return [(k, t.tr(label)) for k, label in ASK.items()]
    if name == "nudge":
        return [(value, nudge_label(t, value)) for value in NUDGE_CHOICES]
    return []


def chosen(name: str, alert: Alert) -> list[str]:
    return list(getattr(alert, name) or []) if name in TOGGLE_STEPS else []


def keyboard(where: Here, name: str, alert: Alert) -> InlineKeyboardMarkup | None:
    t = where.t
    if name in ("link", "deadline", "sign_deadline", "min_signatures"):
        return InlineKeyboardMarkup([[InlineKeyboardButton(
            t.tr("Skip"), callback_data=encode(AlertDone(name)))]])
    if name in ("body_es", "body_en", "statement_es", "statement_en"):
        return InlineKeyboardMarkup([[InlineKeyboardButton(
            t.tr("Done"), callback_data=encode(AlertDone(name)))]])
    choices = options(t, name)
    if not choices:
        return None
    picked = chosen(name, alert)
    per_row = 3 if name == "regions" else 2 if len(choices) > 3 else 1
    buttons = []
    for value, label in choices:
        if name in TOGGLE_STEPS:
            text = f"✅ {label}" if value in picked else label
            data = encode(AlertToggle(name, value))
        else:
            text, data = label, encode(AlertChoice(name, value))
        buttons.append(InlineKeyboardButton(text, callback_data=data))
    rows = [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]
    if name in TOGGLE_STEPS:
        rows.append([InlineKeyboardButton(t.tr("Done"), callback_data=encode(AlertDone(name)))])
    return InlineKeyboardMarkup(rows)


# --- the flow's state ---------------------------------------------------------------------------

@dataclasses.dataclass
class Flow:
    step: str
    alert_id: int
    editing: bool = False

    def state(self) -> conversations.State:
        return conversations.State(FLOW, self.step, {"alert": self.alert_id,
                                                     "editing": self.editing})


def next_step(current: str, alert: Alert, editing: bool) -> str:
    """The step after `current`: dependent steps (kinds after audience, the automatic reminder
    after severity) are asked only when they apply; while editing, back to the preview."""
    if current == "audience" and alert.audience == "kinds":
        return "kinds"
    if current == "severity" and alert.severity == "urgent" and editing and alert.asks:
        return "nudge"
    if editing:
        return "preview"
    index = ORDER.index(current) + 1
    while True:
        name = ORDER[index]
        skip_kinds = name == "kinds" and alert.audience != "kinds"
        skip_nudge = name == "nudge" and (alert.severity != "urgent" or not alert.asks)
        skip_statement = name in STATEMENT_STEPS and (
            "sign_on" not in (alert.asks or [])
            or (name in ("sign_deadline", "min_signatures")
                and not (alert.statement_es or alert.statement_en)))
        if not (skip_kinds or skip_nudge or skip_statement):
            return name
        index += 1


async def load(where: Here) -> tuple[Flow, Alert] | None:
    """The person's open composer and its draft; None if there is none (or it was sent)."""
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id, now)
        if state is None or state.flow != FLOW:
            return None
        alert = await alerts.draft_of(session, int(state.data.get("alert") or 0), where.user_id)
        if alert is None:
            return None
    return Flow(state.step, alert.id, bool(state.data.get("editing"))), alert


async def save(where: Here, flow: Flow, **values: object) -> Alert | None:
    """Store the step and the draft's changed values in one transaction."""
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        alert = await alerts.update_draft(session, flow.alert_id, where.user_id, now, **values)
        if alert is None:
            return None
        await conversations.save(session, where.chat_id, where.user_id, flow.state(), now)
    return alert


async def ask(update: Update, where: Here, flow: Flow, alert: Alert,
              reason: Callable[[Text], str] | None = None) -> None:
    if flow.step == "preview":
        await preview(update, where, alert)
        return

    def build(t: Text) -> str:
        text = question(t, flow.step, alert)
        return f"{reason(t)}\n\n{text}" if reason else text

    await reply(update, where, build, markup=keyboard(where, flow.step, alert))


async def go_on(update: Update, where: Here, flow: Flow, alert: Alert, **values: object) -> None:
    """Record the values, move to the next step and ask it."""
    for name, value in values.items():
        setattr(alert, name, value)
    flow.step = next_step(flow.step, alert, flow.editing)
    if flow.step == "preview":
        flow.editing = False
    saved = await save(where, flow, **values)
    if saved is None:
        return
    await ask(update, where, flow, saved)


# --- /alert ---------------------------------------------------------------------------------------

async def coordinator_here(update: Update, where: Here) -> bool:
    """Rule R for the composer: a coordinator writing as themselves, in private."""
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return False
    if where.role is not Role.COORDINATOR:
        log.info("alerts.refused")
        await reply(update, where, only_coordinators)
        return False
    if not where.private:
        await reply(update, where, private_only, markup=to_private(where))
        return False
    return True


def to_private(where: Here) -> InlineKeyboardMarkup:
    """A button that opens the private chat with the bot (rule C: free text continues there)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        where.label(lambda t: t.tr("Open a private chat with me")),
        url=f"https://t.me/{where.rt.bot_username}")]])


async def alert_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await coordinator_here(update, where):
        return
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        alert = await alerts.new_draft(session, where.user_id, now)
        flow = Flow("title", alert.id)
        await conversations.save(session, where.chat_id, where.user_id, flow.state(), now)
    log.info("alerts.compose_started alert=%d", alert.id)
    await ask(update, where, flow, alert)


async def open_prefilled(update: Update, where: Here, alert_id: int) -> None:
    """The composer on a draft made from a report (title, text and state filled in): it asks
    the first question not answered yet, the severity."""
    now = where.rt.clock.now()
    flow = Flow("severity", alert_id)
    async with where.rt.db.transaction() as session:
        alert = await alerts.draft_of(session, alert_id, where.user_id)
        if alert is None:
            return
        await conversations.save(session, where.chat_id, where.user_id, flow.state(), now)
    await ask(update, where, flow, alert)


@step(FLOW, "title")
async def answer_title(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                       text: str) -> None:
    loaded = await load(where)
    if loaded is None or where.role is not Role.COORDINATOR:
        return
    flow, alert = loaded
    title = alerts.clean_title(text)
    if title is None:
        await ask(update, where, flow, alert, lambda t: t.tr(
            "That title cannot be used: one line of up to 200 characters, not starting with "
            "“/”."))
        return
    await go_on(update, where, flow, alert, title=title)


async def answer_body(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                      text: str) -> None:
    loaded = await load(where)
    if loaded is None or where.role is not Role.COORDINATOR:
        return
    flow, alert = loaded
    name = flow.step
    current = getattr(alert, name) or ""
    body = f"{current}\n\n{text.strip()}" if current else text.strip()
    if len(body) > alerts.MAX_BODY:
        await reply(update, where, lambda t: t.tr(
            "The text would be longer than {n} characters; that part was not added.",
            n=t.number(alerts.MAX_BODY)), markup=keyboard(where, name, alert))
        return
    saved = await save(where, flow, **{name: body})
    if saved is None:
        return
    await reply(update, where, lambda t: t.tr_plural(
        "Added. The text now has {n} character. Send more to add to it, or press Done.",
        "Added. The text now has {n} characters. Send more to add to it, or press Done.",
        len(body)), markup=keyboard(where, name, saved))


step(FLOW, "body_es")(answer_body)
step(FLOW, "body_en")(answer_body)
step(FLOW, "statement_es")(answer_body)
step(FLOW, "statement_en")(answer_body)


@step(FLOW, "link")
async def answer_link(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                      text: str) -> None:
    loaded = await load(where)
    if loaded is None or where.role is not Role.COORDINATOR:
        return
    flow, alert = loaded
    link = alerts.clean_link(text)
    if link is None:
        await ask(update, where, flow, alert, lambda t: t.tr(
            "That is not a link I can use: it must start with https:// (or http://) and have "
            "no spaces."))
        return
    await go_on(update, where, flow, alert, link=link)


def parse_deadline(text: str, timezone: str) -> datetime | None:
    raw = " ".join(text.split())
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            local = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d":
            local = local.replace(hour=23, minute=59)
        return local.replace(tzinfo=ZoneInfo(timezone))
    return None


@step(FLOW, "deadline")
async def answer_deadline(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                          text: str) -> None:
    loaded = await load(where)
    if loaded is None or where.role is not Role.COORDINATOR:
        return
    flow, alert = loaded
    deadline = parse_deadline(text, where.timezone)
    if deadline is None or deadline <= where.rt.clock.now():
        await ask(update, where, flow, alert, lambda t: t.tr(
            "I could not read a date in the future there. Write it as 2026-12-31 or "
            "2026-12-31 18:00."))
        return
    await go_on(update, where, flow, alert, deadline=deadline)


@step(FLOW, "sign_deadline")
async def answer_sign_deadline(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                               text: str) -> None:
    loaded = await load(where)
    if loaded is None or where.role is not Role.COORDINATOR:
        return
    flow, alert = loaded
    deadline = parse_deadline(text, where.timezone)
    if deadline is None or deadline <= where.rt.clock.now():
        await ask(update, where, flow, alert, lambda t: t.tr(
            "I could not read a date in the future there. Write it as 2026-12-31 or "
            "2026-12-31 18:00."))
        return
    await go_on(update, where, flow, alert, sign_deadline=deadline)


@step(FLOW, "min_signatures")
async def answer_min_signatures(update: Update, context: ContextTypes.DEFAULT_TYPE,
                                where: Here, text: str) -> None:
    loaded = await load(where)
    if loaded is None or where.role is not Role.COORDINATOR:
        return
    flow, alert = loaded
    minimum = statements.parse_minimum(text)
    if minimum is None:
        await ask(update, where, flow, alert, lambda t: t.tr(
            "Please send a whole number between 1 and {n}.",
            n=t.number(statements.MAX_MINIMUM)))
        return
    await go_on(update, where, flow, alert, min_signatures=minimum)


async def buttons_expected(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                           text: str) -> None:
    loaded = await load(where)
    if loaded is None:
        return
    flow, alert = loaded
    await ask(update, where, flow, alert, lambda t: t.tr("Please answer with the buttons."))


for _name in ORDER:
    if _name not in TEXT_STEPS:
        step(FLOW, _name)(buttons_expected)


async def stale(update: Update, where: Here) -> None:
    query = update.callback_query
    assert query is not None
    log.info("alerts.stale_button")
    await query.answer(where.t.tr("This button is no longer valid."))


async def press_context(update: Update, context: ContextTypes.DEFAULT_TYPE
                        ) -> tuple[Here, tuple[Flow, Alert] | None] | None:
    """A composer button: refused to anyone but a coordinator (rule R), else the open flow."""
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if where.role is not Role.COORDINATOR:
        log.info("alerts.button_refused")
        await query.answer(only_coordinators(where.t), show_alert=True)
        return None
    return where, await load(where) if where.private else None


@on(AlertChoice, AlertToggle, AlertDone)
async def composer_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          pressed: AlertChoice | AlertToggle | AlertDone) -> None:
    found = await press_context(update, context)
    if found is None:
        return
    where, loaded = found
    query = update.callback_query
    assert query is not None
    if loaded is None or loaded[0].step != pressed.step:
        await stale(update, where)
        return
    flow, alert = loaded
    if isinstance(pressed, AlertChoice):
        if pressed.value not in dict(options(where.t, pressed.step)):
            await stale(update, where)
            return
        await query.answer()
        if pressed.step == "nudge":
            hours = int(pressed.value)
            await go_on(update, where, flow, alert, auto_nudge_hours=hours or None)
        else:
            await go_on(update, where, flow, alert, **{pressed.step: pressed.value})
        return
    if isinstance(pressed, AlertToggle):
        if pressed.value not in dict(options(where.t, pressed.step)):
            await stale(update, where)
            return
        picked = chosen(pressed.step, alert)
        picked = ([x for x in picked if x != pressed.value] if pressed.value in picked
                  else [*picked, pressed.value])
        order = [value for value, _ in options(where.t, pressed.step)]
        picked = [x for x in order if x in picked]
        saved = await save(where, flow, **{pressed.step: picked})
        await query.answer()
        if saved is not None and query.message is not None:
            try:
                await query.edit_message_reply_markup(keyboard(where, pressed.step, saved))
            except Exception:  # an identical redraw (a double tap) is not an error
                log.info("alerts.redraw_skipped")
        return
    await done(update, where, flow, alert)


async def done(update: Update, where: Here, flow: Flow, alert: Alert) -> None:
    query = update.callback_query
    assert query is not None
    last_body = flow.step == "body_en" or (flow.editing and flow.step == "body_es")
    if last_body and not (alert.body_es or alert.body_en):
        await query.answer(where.t.tr("An alert needs a text in Spanish or in English."),
                           show_alert=True)
        return
    if flow.step == "kinds" and not alert.kinds:
        await query.answer(where.t.tr("Choose at least one kind."), show_alert=True)
        return
    await query.answer()
    values: dict[str, object] = {}
    if flow.step == "link" and not alert.link:
        values["link"] = None
    if flow.step == "asks" and not alert.asks:
        values["auto_nudge_hours"] = None
    if flow.step == "asks" and "sign_on" not in (alert.asks or []):
        values.update(statement_es=None, statement_en=None, sign_deadline=None,
                      min_signatures=None)
    await go_on(update, where, flow, alert, **values)


# --- preview, send, edit, cancel ------------------------------------------------------------------

def summary(t: Text, alert: Alert, reach: alerts.Reach) -> str:
    langs = {"es": t.tr("Spanish"), "en": t.tr("English"), "both": t.tr("both languages")}
    by_language = ", ".join(f"{langs[k]}: {t.number(reach.by_language[k])}"
                            for k in langs if reach.by_language.get(k)) or "—"
    lines = [
        t.tr("<b>Preview above.</b> It will reach {orgs} in {chats}.",
             orgs=counts.orgs(t, reach.orgs, bold=True),
             chats=counts.chats(t, len(reach.targets), bold=True)),
        t.tr("Chats by language: {value}", value=by_language),
    ]
    if reach.orgs_without_chat:
        lines.append(t.tr_plural("{n} of them has no group: its contacts get it in private.",
                                 "{n} of them have no group: their contacts get it in private.",
                                 reach.orgs_without_chat))
    audience = t.tr(AUDIENCE.get(alert.audience, alert.audience))
    if alert.audience == "kinds":
        audience += ": " + ", ".join(t.tr(v.KINDS[k]) for k in alert.kinds or [] if k in v.KINDS)
    lines.append(t.tr("Audience: {value}", value=audience))
    asks = ", ".join(t.tr(ASK[k]) for k in alert.asks or [] if k in ASK) or t.tr("none")
    lines.append(t.tr("Answers asked: {value}", value=asks))
    if statements.has_statement(alert):
        lines.append(t.tr_plural(
            "A statement to sign; at least {n} signature before it is published.",
            "A statement to sign; at least {n} signatures before it is published.",
            alert.min_signatures or 1))
    if alert.auto_nudge_hours and alert.severity == "urgent" and alert.asks:
        lines.append(t.tr_plural("Automatic reminder to the silent ones after {n} hour.",
                                 "Automatic reminder to the silent ones after {n} hours.",
                                 alert.auto_nudge_hours))
    if not reach.targets:
        lines.append(t.tr("⚠️ No organisation matches: change the topics, regions or audience."))
    return "\n".join(lines)


async def preview(update: Update, where: Here, alert: Alert) -> None:
    """The alert exactly as a recipient in this chat's language reads it, then the counts."""
    async with where.rt.db.transaction() as session:
        reach = await alerts.reach(session, alert, where.rt.settings.default_language)
    buttons = answer_buttons(alert, where.language, preview=True)
    markup = InlineKeyboardMarkup.de_json({"inline_keyboard": buttons}, None) if buttons \
        else None
    parts = split_html(alert_text(alert, where.language, where.timezone))
    for n, part in enumerate(parts, 1):  # split as the sender splits it, buttons on the last
        await reply(update, where, lambda t, part=part: part,
                    markup=markup if n == len(parts) else None, disable_web_page_preview=True)
    t = where.t
    controls = InlineKeyboardMarkup([[
        InlineKeyboardButton(t.tr("Send"), callback_data=encode(AlertSend(alert.id))),
        InlineKeyboardButton(t.tr("Edit"), callback_data=encode(AlertEdit(alert.id))),
        InlineKeyboardButton(t.tr("Cancel"), callback_data=encode(AlertCancel(alert.id))),
    ]])
    review = where.rt.settings.two_person_rule and alert_review.needs_approval(True, alert)
    await reply(update, where, lambda tt: summary(tt, alert, reach) + (
        "\n" + two_person_note(tt) if review else ""), markup=controls)


def two_person_note(t: Text) -> str:
    return t.tr("Two-person rule: Send asks another coordinator to approve it first.")


@on(PreviewPress)
async def preview_press(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: PreviewPress) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    await query.answer(where.t.tr("This is the preview: recipients' presses will be counted."))


@on(AlertSend)
async def send_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: AlertSend) -> None:
    found = await press_context(update, context)
    if found is None:
        return
    where, _ = found
    query = update.callback_query
    assert query is not None
    if not where.private:
        await stale(update, where)
        return
    settings = where.rt.settings
    now = where.rt.clock.now()
    if settings.two_person_rule:
        async with where.rt.db.reader() as session:
            draft = await alerts.draft_of(session, pressed.alert, where.user_id)
            wait = draft is not None and alert_review.needs_approval(True, draft)
        if wait:
            await ask_approval(update, where, pressed.alert)
            return
    sent = await sending.send_alert(where.rt.db, settings, pressed.alert, where.user_id, now,
                                    alert_copy(settings.timezone), urgent_flag_copy(settings),
                                    report_chat_id=where.chat_id)
    if sent is None:
        await stale(update, where)
        return
    if not sent.first:
        await query.answer(where.t.tr("This alert was already sent."))
        return
    where.rt.wake_sender()
    log.info("alerts.sent alert=%d fanout=%d chats=%d", sent.alert_id, sent.fanout_id, sent.chats)
    await query.answer(where.t.tr("Sending."))
    await reply(update, where, lambda t: t.tr(
        "Sending the alert to {orgs} in {chats}. The progress follows; send /alerts to see who "
        "answered.", orgs=counts.orgs(t, sent.orgs), chats=counts.chats(t, sent.chats)))


@on(AlertEdit)
async def edit_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: AlertEdit) -> None:
    found = await press_context(update, context)
    if found is None:
        return
    where, loaded = found
    query = update.callback_query
    assert query is not None
    if loaded is None or loaded[1].id != pressed.alert:
        await stale(update, where)
        return
    await query.answer()
    names = {"title": N_title, "body_es": N_body_es, "body_en": N_body_en,
             "severity": N_severity, "topics": N_topics, "regions": N_regions,
             "audience": N_audience, "link": N_link, "deadline": N_deadline, "asks": N_asks,
             "statement_es": N_statement_es, "statement_en": N_statement_en,
             "sign_deadline": N_sign_deadline, "min_signatures": N_min_signatures}
    t = where.t
    signing = "sign_on" in (loaded[1].asks or [])  # the statement's fields, when signing is asked
    buttons = [InlineKeyboardButton(t.tr(names[f]), callback_data=encode(AlertField(f)))
               for f in EDITABLE if signing or f not in STATEMENT_STEPS]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    await reply(update, where, lambda tt: tt.tr("What do you want to change?"),
                markup=InlineKeyboardMarkup(rows))


N_title = i18n.N_("Title")
N_statement_es = i18n.N_("Spanish statement")
N_statement_en = i18n.N_("English statement")
N_sign_deadline = i18n.N_("Signing deadline")
N_min_signatures = i18n.N_("Minimum signatures")
N_body_es = i18n.N_("Spanish text")
N_body_en = i18n.N_("English text")
N_severity = i18n.N_("Severity")
N_topics = i18n.N_("Topics")
N_regions = i18n.N_("Regions")
N_audience = i18n.N_("Audience")
N_link = i18n.N_("Link")
N_deadline = i18n.N_("Deadline")
N_asks = i18n.N_("Answers asked")


@on(AlertField)
async def field_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                       pressed: AlertField) -> None:
    found = await press_context(update, context)
    if found is None:
        return
    where, loaded = found
    query = update.callback_query
    assert query is not None
    if loaded is None or loaded[0].step != "preview":
        await stale(update, where)
        return
    await query.answer()
    flow, alert = loaded
    flow.step, flow.editing = pressed.field, True
    values: dict[str, object] = {}
    if pressed.field in ("body_es", "body_en", "statement_es", "statement_en"):
        values[pressed.field] = None  # a new text replaces the old one
        setattr(alert, pressed.field, None)
    saved = await save(where, flow, **values)
    if saved is not None:
        await ask(update, where, flow, saved)


@on(AlertCancel)
async def cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: AlertCancel) -> None:
    found = await press_context(update, context)
    if found is None:
        return
    where, _ = found
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        gone = await alerts.discard_draft(session, pressed.alert, where.user_id)
        if gone:
            await conversations.finish(session, where.chat_id, where.user_id)
    if not gone:
        await stale(update, where)
        return
    await query.answer()
    await reply(update, where, lambda t: t.tr("Cancelled. The alert was not sent."))


# --- answers under an alert (rule A) -------------------------------------------------------------

OUTCOME_TEXT: dict[alerts.Outcome, str] = {
    alerts.Outcome.RECORDED: i18n.N_("Thank you: your organisation's answer is recorded."),
    alerts.Outcome.UNCHANGED: i18n.N_("Thank you: your organisation's answer is recorded."),
    alerts.Outcome.ASK_CAPACITY: i18n.N_("Which capacity can your organisation offer? Choose "
                                         "below."),
    alerts.Outcome.STRANGER: i18n.N_("Thank you. You do not answer for an organisation this "
                                     "alert was sent to, so your answer is counted apart."),
    alerts.Outcome.NOT_REACHED: i18n.N_("This alert was not sent to your organisation, so "
                                        "this answer is not counted."),
    alerts.Outcome.NEEDS_CONTACT: i18n.N_("Only your organisation's contacts can sign on or "
                                          "offer help for it."),
    alerts.Outcome.INVALID: i18n.N_("This button is no longer valid."),
}


@on(AnswerPress, CapacityPress)
async def answer_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: AnswerPress | CapacityPress) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    kind = "can_help" if isinstance(pressed, CapacityPress) else pressed.kind
    capacity = pressed.capacity if isinstance(pressed, CapacityPress) else None
    if kind == "sign_on":
        async with where.rt.db.reader() as session:
            alert = await alerts.get(session, pressed.alert)
            statement = alert is not None and statements.has_statement(alert)
        if statement:  # signing a statement: the name and a confirmation, in private
            await start_signing(update, where, pressed.alert)
            return
    async with where.rt.db.transaction() as session:
        result = await alerts.answer(session, pressed.alert, where.chat_id, where.private,
                                     where.user_id, kind, where.rt.clock.now(), capacity)
    log.info("alerts.answer alert=%d outcome=%s", pressed.alert, result.outcome.value)
    await query.answer(where.t.tr(OUTCOME_TEXT[result.outcome]),
                       show_alert=result.outcome in (alerts.Outcome.NOT_REACHED,
                                                     alerts.Outcome.NEEDS_CONTACT))
    if result.outcome is alerts.Outcome.ASK_CAPACITY:
        markup = InlineKeyboardMarkup.de_json(
            {"inline_keyboard": capacity_buttons(pressed.alert, where.language)}, None)
        message = query.message
        await reply(update, where, lambda t: t.tr(
            "Which capacity can your organisation offer for this alert?"), markup=markup,
            reply_to_message_id=message.message_id if message is not None else None)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add this module's commands (follow-up and reports have their own modules)."""
    application.add_handler(CommandHandler("alert", alert_command))

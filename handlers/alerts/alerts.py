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

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import i18n
from bot.db.models import Alert
from bot.delivery.split import split_html
from bot.i18n import Text
from bot.services.alerts import alerts, sending, statements
from bot.services.alerts import review as alert_review
from bot.services.shared import vocabulary as v
from handlers.alerts.copies import (
    AnswerPress,
    CapacityPress,
    PreviewPress,
    alert_copy,
    answer_buttons,
    capacity_buttons,
)
from handlers.alerts.render import ASK, AUDIENCE, SEVERITY, alert_text
from handlers.alerts.review import ask_approval, urgent_flag_copy
from handlers.alerts.statements import start_signing
from handlers.shared import counts, guided, when
from handlers.shared.audience import places_step
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, here, reply
from handlers.shared.guided import Composer, Kind, Refuse, RowDrafts, Step, stale

log = logging.getLogger(__name__)

FLOW = sending.COMPOSER_FLOW


# --- button data (the composer's own buttons come from the guided-flow kit) ----------------------

@action("als")
@dataclasses.dataclass(frozen=True)
class AlertSend:
    alert: int


# --- texts --------------------------------------------------------------------------------------

def private_only(t: Text) -> str:
    return t.tr("Please compose alerts in your private chat with me.")


NUDGE_CHOICES = ("0", *(str(h) for h in alerts.NUDGE_HOURS))


def nudge_label(t: Text, value: str) -> str:
    if value == "0":
        return t.tr("No automatic reminder")
    return t.tr_plural("Remind the silent ones after {n} hour",
                       "Remind the silent ones after {n} hours", int(value))


to_private = guided.to_private


# --- the composer, as its steps ------------------------------------------------------------------

def _title(where: Here, text: str, alert: Alert) -> dict[str, object] | Refuse:
    title = alerts.clean_title(text)
    if title is None:
        return Refuse(lambda t: t.tr(
            "That title cannot be used: one line of up to 200 characters, not starting with "
            "“/”."))
    return {"title": title}


def _link(where: Here, text: str, alert: Alert) -> dict[str, object] | Refuse:
    link = alerts.clean_link(text)
    if link is None:
        return Refuse(lambda t: t.tr(
            "That is not a link I can use: it must start with https:// (or http://) and have "
            "no spaces."))
    return {"link": link}


def _minimum(where: Here, text: str, alert: Alert) -> dict[str, object] | Refuse:
    minimum = statements.parse_minimum(text)
    if minimum is None:
        return Refuse(lambda t: t.tr("Please send a whole number between 1 and {n}.",
                                     n=t.number(statements.MAX_MINIMUM)))
    return {"min_signatures": minimum}


def _a_text(t: Text, alert: Alert, last: bool) -> str | None:
    if last and not (alert.body_es or alert.body_en):
        return t.tr("An alert needs a text in Spanish or in English.")
    return None


def _signing(alert: Alert) -> bool:
    return "sign_on" in (alert.asks or [])


def _statement(alert: Alert) -> bool:
    return _signing(alert) and bool(alert.statement_es or alert.statement_en)


def _nudged(alert: Alert) -> bool:
    return alert.severity == "urgent" and bool(alert.asks)


def _asks_done(alert: Alert) -> dict[str, object]:
    values: dict[str, object] = {}
    if not alert.asks:
        values["auto_nudge_hours"] = None
    if not _signing(alert):
        values.update(statement_es=None, statement_en=None, sign_deadline=None,
                      min_signatures=None)
    return values


def _choices(labels: dict[str, str]) -> Callable[[Text, Alert], list[tuple[str, str]]]:
    return lambda t, _: [(k, t.tr(label)) for k, label in labels.items()]


STEPS = (
    Step("title", Kind.TEXT, lambda t, _: t.tr(
        "<b>New alert.</b> What is its title? (one line, up to 200 characters; /cancel to "
        "stop)"), parse=_title, label=i18n.N_("Title")),
    Step("body_es", Kind.PARTS, lambda t, _: t.tr(
        "Send the text in <b>Spanish</b>. You may send several messages: they are joined. Press "
        "Done when it is complete (or Done right away if there is no Spanish text)."),
        max_chars=alerts.MAX_BODY, label=i18n.N_("Spanish text"),
        done=lambda t, alert, editing: _a_text(t, alert, editing)),
    Step("body_en", Kind.PARTS, lambda t, _: t.tr(
        "Send the text in <b>English</b>, in one or several messages, then press Done (or Done "
        "right away if there is no English text: English chats then get the Spanish one)."),
        max_chars=alerts.MAX_BODY, label=i18n.N_("English text"),
        done=lambda t, alert, _: _a_text(t, alert, True)),
    Step("severity", Kind.CHOICE, lambda t, _: t.tr("How serious is it?"),
         options=_choices(SEVERITY), label=i18n.N_("Severity"),
         then=lambda alert: "nudge" if _nudged(alert) else None),
    Step("topics", Kind.TOGGLE, lambda t, _: t.tr(
        "Which topics does it concern? Organisations following one of them get it; choose none "
        "to reach every topic. Then press Done."), options=_choices(v.TOPICS),
        label=i18n.N_("Topics")),
    places_step(lambda t, _: t.tr(
        "Which regions does it concern? Press them, or type part of a name (Jalisco, "
        "Guatemala…); choose none to reach everywhere. Then press Done.")),
    Step("audience", Kind.CHOICE, lambda t, _: t.tr("Who should get it?"),
         options=_choices(AUDIENCE), label=i18n.N_("Audience"),
         then=lambda alert: "kinds" if alert.audience == "kinds" else None),
    Step("kinds", Kind.TOGGLE, lambda t, _: t.tr(
        "Which kinds of organisation? Choose one or more, then press Done."),
        options=_choices(v.KINDS), applies=lambda alert: alert.audience == "kinds",
        done=lambda t, alert, _: None if alert.kinds else t.tr("Choose at least one kind.")),
    Step("link", Kind.TEXT, lambda t, _: t.tr(
        "Send a link for more information (https://…), or press Skip."), parse=_link,
        optional=True, label=i18n.N_("Link")),
    Step("deadline", Kind.TEXT, lambda t, _: t.tr(
        "Is there a deadline? Send it as 2026-12-31 or 2026-12-31 18:00 (your time zone), or "
        "press Skip."), parse=when.reader("deadline", default_time=when.END_OF_DAY),
        said=when.echo(lambda alert: alert.deadline), optional=True, label=i18n.N_("Deadline")),
    Step("asks", Kind.TOGGLE, lambda t, _: t.tr(
        "Which answers should organisations give? Choose any, then press Done."),
        options=_choices(ASK), on_done=_asks_done, label=i18n.N_("Answers asked")),
    Step("statement_es", Kind.PARTS, lambda t, _: t.tr(
        "“We sign on” is asked: send the <b>statement</b> organisations sign, in <b>Spanish</b> "
        "(several messages are joined), then press Done. Press Done right away for no Spanish "
        "statement (with no statement at all, “We sign on” is an answer like the others)."),
        max_chars=alerts.MAX_BODY, applies=_signing, label=i18n.N_("Spanish statement")),
    Step("statement_en", Kind.PARTS, lambda t, _: t.tr(
        "The statement in <b>English</b>, then Done (Done right away: English chats get the "
        "Spanish one)."), max_chars=alerts.MAX_BODY, applies=_signing,
        label=i18n.N_("English statement")),
    Step("sign_deadline", Kind.TEXT, lambda t, _: t.tr(
        "Until when can organisations sign? Send it as 2026-12-31 or 2026-12-31 18:00 (your "
        "time zone), or press Skip."), optional=True,
        parse=when.reader("sign_deadline", default_time=when.END_OF_DAY),
        said=when.echo(lambda alert: alert.sign_deadline),
        applies=_statement, editable=_signing, label=i18n.N_("Signing deadline")),
    Step("min_signatures", Kind.TEXT, lambda t, _: t.tr(
        "How many signatures must there be before the statement is published? Send a number, "
        "or press Skip (one is enough)."), parse=_minimum, optional=True, applies=_statement,
        editable=_signing, label=i18n.N_("Minimum signatures")),
    Step("nudge", Kind.CHOICE, lambda t, _: t.tr(
        "Should I remind the organisations that have not answered, automatically?"),
        options=lambda t, _: [(value, nudge_label(t, value)) for value in NUDGE_CHOICES],
        pick=lambda value, _: {"auto_nudge_hours": int(value) or None}, applies=_nudged),
)


# --- /alert ---------------------------------------------------------------------------------------

async def alert_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await COMPOSER.allowed(update, where):
        return
    async with where.rt.db.transaction() as session:
        alert = await alerts.new_draft(session, where.user_id, where.rt.clock.now())
    log.info("alerts.compose_started alert=%d", alert.id)
    await COMPOSER.open(update, where, {"alert": alert.id})


async def open_prefilled(update: Update, where: Here, alert_id: int) -> None:
    """The composer on a draft made from a report (title, text and state filled in): it asks
    the first question not answered yet, the severity."""
    await COMPOSER.open(update, where, {"alert": alert_id}, first="severity")


# --- preview, send --------------------------------------------------------------------------------

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
    controls = COMPOSER.controls(where, alert, InlineKeyboardButton(
        where.t.tr("Send"), callback_data=encode(AlertSend(alert.id))))
    review = where.rt.settings.two_person_rule and alert_review.needs_approval(True, alert)
    await reply(update, where, lambda tt: summary(tt, alert, reach) + (
        "\n" + two_person_note(tt) if review else ""), markup=controls)


def two_person_note(t: Text) -> str:
    return t.tr("Two-person rule: Send asks another coordinator to approve it first.")


COMPOSER = Composer(
    FLOW, STEPS, RowDrafts(alerts.DRAFTS, "alert"), preview,
    cancelled=lambda t: t.tr("Cancelled. The alert was not sent."), private_only=private_only,
    to_private=True)


@on(PreviewPress, owner=Owner.DATA)
async def preview_press(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: PreviewPress) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    await query.answer(where.t.tr("This is the preview: recipients' presses will be counted."))


@on(AlertSend, owner=Owner.DATA, who=Who.COORDINATOR)
async def send_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: AlertSend) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if not where.private or not await COMPOSER.sendable(where, pressed.alert):
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


@on(AnswerPress, CapacityPress, owner=Owner.DATA)
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

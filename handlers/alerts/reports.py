"""/report: a contact of an active organisation raises a local warning; coordinators get it with
*Draft an alert from this* (the composer, pre-filled) and *Dismiss* (a reason sent back).

The report is a guided flow in the private chat (rule C): the text, then a document or a link
(or Skip), then the state. It reaches the coordination group, or each reachable coordinator,
through the outbox in the transaction that records it (rule D).
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import ForceReply, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot import i18n
from bot.db.models import Report
from bot.delivery import outbox
from bot.i18n import Text
from bot.services.alerts import alerts, reports
from bot.services.membership import members_view
from bot.services.shared import chats, conversations
from bot.services.shared import vocabulary as v
from bot.services.shared.roles import Role
from bot.services.shared.visibility import shown_name
from handlers.alerts import alerts as composer
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, here, reply
from handlers.shared.guided import Composer, Kind, Refuse, StateDrafts, Step
from handlers.shared.steps import step

log = logging.getLogger(__name__)
FLOW = "report"
DISMISS_FLOW = "report_dismiss"
STATES: tuple[str, ...] = tuple(sorted(v.MX_STATES, key=lambda c: v.MX_STATES[c]))


@action("rpd")
@dataclasses.dataclass(frozen=True)
class ReportDraft:
    report: int

    def valid(self) -> bool:
        return self.report > 0


@action("rpx")
@dataclasses.dataclass(frozen=True)
class ReportDismiss:
    report: int

    def valid(self) -> bool:
        return self.report > 0


def only_contacts(t: Text) -> str:
    return t.tr("Only the contacts of an active member organisation can do this.")


# --- the /report flow, as its steps ---------------------------------------------------------------

@dataclasses.dataclass
class Draft:
    """What a report holds until it is sent (kept in the conversation row)."""

    text: str | None = None
    link: str | None = None
    file_id: str | None = None
    file_name: str | None = None
    state: str | None = None


def _text(where: Here, text: str, draft: Draft) -> dict[str, object] | Refuse:
    value = reports.clean_text(text)
    if value is None:
        return Refuse(lambda t: t.tr("Please describe it in one message of up to {n} characters.",
                                     n=t.number(reports.MAX_TEXT)))
    return {"text": value}


def _link(where: Here, text: str, draft: Draft) -> dict[str, object] | Refuse:
    link = alerts.clean_link(text)
    if link is None:
        return Refuse(lambda t: t.tr(
            "That is not a link I can use: it must start with https:// (or http://) and have "
            "no spaces. Send a document or a link, or press Skip."))
    return {"link": link}


STEPS = (
    Step("text", Kind.TEXT, lambda t, _: t.tr(
        "<b>Report a threat to the coordinators.</b> What is happening? Describe it in one "
        "message (a new law, a regulation, an attack…); /cancel to stop."), parse=_text),
    Step("attach", Kind.TEXT, lambda t, _: t.tr(
        "Send a document or a link (https://…) about it, or press Skip."), parse=_link,
        optional=True, document=lambda document: {
            "file_id": document.file_id, "file_name": (document.file_name or "")[:200]}),
    Step("state", Kind.CHOICE, lambda t, _: t.tr("Which state does it concern?"),
         options=lambda t, _: [*((c, v.MX_STATES[c]) for c in STATES),
                               (reports.NO_STATE, t.tr("Not about one state"))], per_row=3),
)


async def state_of(where: Here, flow: str) -> conversations.State | None:
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id,
                                            where.rt.clock.now())
    return state if state is not None and state.flow == flow else None


async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await COMPOSER.allowed(update, where):
        return
    await COMPOSER.open(update, where, {}, draft=Draft())


async def document_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document sent in private while a report waits for one."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    where = await here(update, context)
    await COMPOSER.take_document(update, where, message.document)


def coordinator_copy(t: Text, report: Report, org_name: str, low_profile: bool) -> str:
    state = v.MX_STATES.get(report.state or "", t.tr("not one state"))
    lines = [t.tr("📣 <b>Report from a member</b> (#{id})", id=report.id),
             t.tr("Organisation: {name}", name=org_name)
             + (" " + t.tr("(low profile)") if low_profile else ""),
             t.tr("State: {state}", state=state), "", i18n.escape(report.text)]
    if report.link:
        lines += ["", t.tr("🔗 {link}", link=report.link)]
    if report.file_id:
        lines += ["", t.tr("A document follows.")]
    return "\n".join(lines)


def report_buttons(t: Text, report_id: int) -> list[list[dict[str, str]]]:
    return [[{"text": t.tr("Draft an alert from this"),
              "callback_data": encode(ReportDraft(report_id))},
             {"text": t.tr("Dismiss"), "callback_data": encode(ReportDismiss(report_id))}]]


async def submit(update: Update, where: Here, data: Draft) -> None:
    """The last answer given: the report reaches the coordinators through the outbox, in the
    transaction that records it (rule D)."""
    settings = where.rt.settings
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        org = await reports.reporter(session, where.user_id)
        if org is None:
            await conversations.finish(session, where.chat_id, where.user_id)
            report = None
        else:
            lang = "en" if where.language == "en" else "es"
            report = await reports.create(
                session, org.id, where.user_id, data.text or "", now, link=data.link,
                file_id=data.file_id, file_name=data.file_name, state=data.state,
                language=lang)
            name = shown_name(org, coordinator_view=True) or ""
            recipients = await members_view.coordination_recipients(
                session, settings.coordinator_ids, settings.coordination_chat_id)
            messages, documents = [], []
            for r in recipients:
                choice = r.language if r.language in i18n.CHOICES else settings.default_language
                text = i18n.render(choice, settings.timezone, lambda t: coordinator_copy(
                    t, report, name, bool(org.low_profile)))
                t1 = Text("es" if choice == "both" else choice, settings.timezone)
                messages.append(outbox.Outgoing(r.chat_id, text=text,
                                                buttons=report_buttons(t1, report.id)))
                if report.file_id:
                    documents.append(outbox.Outgoing(
                        r.chat_id, document={"file_id": report.file_id},
                        caption=t1.tr("Document of report #{id}", id=report.id)))
            fanout = await outbox.enqueue(session, f"report:{report.id}", "report", messages,
                                          now)
            if documents:
                await outbox.enqueue(session, f"report.doc:{report.id}", "report", documents,
                                     now)
            await reports.set_fanout(session, report.id, fanout)
            await conversations.finish(session, where.chat_id, where.user_id)
    if report is None:
        await reply(update, where, only_contacts)
        return
    where.rt.wake_sender()
    log.info("reports.created report=%d", report.id)
    await reply(update, where, lambda t: t.tr(
        "Thank you. The coordinators got your report and will tell you what they do with it."))


COMPOSER = Composer(
    FLOW, STEPS, StateDrafts.of(Draft), submit,
    cancelled=lambda t: t.tr("Cancelled. Nothing was changed."),
    private_only=lambda t: t.tr("Please send /report to me in a private chat: reports go to the "
                                "coordinators only."), who=Who.CONTACT, to_private=True)


@on(ReportDraft, owner=Owner.DATA, who=Who.COORDINATOR)
async def draft_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                       pressed: ReportDraft) -> None:
    where = await here(update, context)  # a coordinator: the route says so (Who.COORDINATOR)
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        alert = await reports.draft_alert(session, pressed.report, where.user_id,
                                          where.rt.clock.now())
        alert_id = alert.id if alert is not None else None
    if alert_id is None:
        await query.answer(where.t.tr("This report was dismissed."), show_alert=True)
        return
    await query.answer()
    private = where
    if not where.private:  # from the coordination group: the composer goes on in private
        async with where.rt.db.transaction() as session:
            lang = await chats.language_of(session, where.user_id,
                                                    where.user_language or where.language)
        private = dataclasses.replace(where, chat_id=where.user_id, chat_type="private",
                                      language=lang)
    try:
        await composer.open_prefilled(update, private, alert_id)
    except TelegramError:
        await reply(update, where, lambda t: t.tr(
            "I cannot write to you in private: open a private chat with me (/start), then "
            "press the button again."))


@on(ReportDismiss, owner=Owner.DATA, who=Who.COORDINATOR)
async def dismiss_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: ReportDismiss) -> None:
    where = await here(update, context)  # a coordinator: the route says so (Who.COORDINATOR)
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        report = await reports.get(session, pressed.report)
        is_open = report is not None and report.status == "open"
        if is_open:
            await conversations.save(session, where.chat_id, where.user_id,
                                     conversations.State(DISMISS_FLOW, "reason",
                                                         {"report": pressed.report}),
                                     where.rt.clock.now())
    if not is_open:
        await query.answer(where.t.tr("This report was already handled."), show_alert=True)
        return
    await query.answer()
    await ask_reason(update, where)


async def ask_reason(update: Update, where: Here) -> None:
    def build(t: Text) -> str:
        return t.tr("Why is this report dismissed? Your answer is sent to the person who reported "
                    "it, as it is (or /cancel).")

    if where.private:
        await reply(update, where, build)
    else:
        placeholder = where.label(lambda t: t.tr("Reason"))
        await reply(update, where, build,
                    markup=ForceReply(selective=True, input_field_placeholder=placeholder[:64]))


def dismissed_text(t: Text, report: Report) -> str:
    excerpt = report.text if len(report.text) <= 200 else report.text[:199] + "…"
    return t.tr("Your report “{excerpt}” was not turned into an alert. The coordinators' reason: "
                "{reason}", excerpt=excerpt, reason=report.reason or "")


@step(DISMISS_FLOW, "reason")
async def answer_reason(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                        text: str) -> None:
    state = await state_of(where, DISMISS_FLOW)
    if state is None:
        return
    if where.role is not Role.COORDINATOR:
        async with where.rt.db.transaction() as session:
            await conversations.finish(session, where.chat_id, where.user_id)
        await reply(update, where, lambda t: t.tr("Only coordinators can do this."))
        return
    reason = text.strip()
    if not reason or reason.startswith("/"):
        await ask_reason(update, where)
        return
    settings = where.rt.settings
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        report = await reports.dismiss(session, int(state.data["report"]), where.user_id,
                                       reason, now)
        if report is not None and report.reporter_id is not None:
            chat = report.reporter_id
            lang = await chats.language_of(session, chat, report.language)
            body = i18n.render(lang, settings.timezone, lambda t: dismissed_text(t, report))
            await outbox.enqueue(session, f"report.dismissed:{report.id}", "report.dismissed",
                                 [outbox.Outgoing(chat, text=body)], now)
        await conversations.finish(session, where.chat_id, where.user_id)
    if report is None:
        await reply(update, where, lambda t: t.tr("This report was already handled."))
        return
    where.rt.wake_sender()
    log.info("reports.dismissed report=%d", report.id)
    await reply(update, where, lambda t: t.tr("Dismissed. The person who reported it was told "
                                              "your reason."))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("report", report_command))
    application.add_handler(MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE,
                                           document_message))

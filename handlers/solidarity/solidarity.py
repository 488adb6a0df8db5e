"""/ask, offers, accepting, relaying, closing and /requests: solidarity responses (issue 12).

/ask is a guided flow in the private chat (rule C): kind of help, urgency, a description, the
alert it relates to (if there are recent ones), and who may see it. The request and its copies
are written in one transaction (rule D). Offers are pressed under the copies (rule A; *we can
help* needs a contact); the asking organisation's contact gets each offer in private and
accepts one or more. Only then are the two put in touch: introduced by name and username when
both chose it and both have one, else the bot relays messages between the two private chats.

Relaying cooperates with the free-text router (handlers/shared/flows.py) without changing it: a
handler in an earlier group takes a private message only when the person has no open flow and
is in an open relay, and then stops the update there (`ApplicationHandlerStop`); everything
else goes on to the router as before.
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import i18n
from bot.delivery import outbox
from bot.i18n import Text
from bot.numbers import whole_number
from bot.runtime import runtime_of
from bot.services.alerts import alerts
from bot.services.membership import members_view
from bot.services.safety import safety
from bot.services.shared import chats, conversations, people
from bot.services.shared import vocabulary as v
from bot.services.shared.roles import Role
from bot.services.solidarity import solidarity
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.common import Here, anonymous_refusal, here, reply, reply_photo
from handlers.shared.guided import Composer, Kind, Refuse, StateDrafts, Step
from handlers.solidarity import render as sr

log = logging.getLogger(__name__)
FLOW = "ask"
MAX_MESSAGE = 4096


def only_contacts(t: Text) -> str:
    return t.tr("Only the contacts of an active member organisation can do this.")


def stale_text(t: Text) -> str:
    return t.tr("This button is no longer valid.")


# --- the /ask flow ------------------------------------------------------------------------------

@dataclasses.dataclass
class Draft:
    """A request for help until it is sent (kept in the conversation row)."""

    capacity: str | None = None
    urgency: str | None = None
    text: str | None = None
    recent: list[list[object]] = dataclasses.field(default_factory=list)  # [alert id, title]
    alert: int | None = None
    low: bool = False  # a low-profile organisation asks without its name by default
    visibility: str | None = None


async def _text(where: Here, text: str, draft: Draft) -> dict[str, object] | Refuse:
    """The description; the alerts it may be about are looked up now (the next question)."""
    value = solidarity.clean_text(text)
    if value is None:
        return Refuse(lambda t: t.tr("Please describe it in one message of up to {n} characters.",
                                     n=t.number(solidarity.MAX_TEXT)))
    async with where.rt.db.transaction() as session:
        org = await solidarity.asker_org(session, where.user_id)
        recent = (await solidarity.recent_alerts(session, where.rt.clock.now(), org.id)
                  if org is not None else [])
    return {"text": value, "recent": [[alert_id, title[:60]] for alert_id, title in recent]}


def _visibility(t: Text, draft: Draft) -> list[tuple[str, str]]:
    anon = (t.tr("The organisations that offer it, without our name (recommended)") if draft.low
            else t.tr("The organisations that offer it, without our name"))
    return [("anon", anon), ("named", t.tr("The organisations that offer it, with our name")),
            ("coord", t.tr("Coordinators only (they look for help by hand)"))]


def _visibility_question(t: Text, draft: Draft) -> str:
    text = t.tr("Who may see this request? The coordinators always can.")
    if draft.low:
        text += "\n\n" + t.tr("Your organisation keeps a low profile, so it asks without its "
                               "name unless you choose otherwise; with its name, others read "
                               "only its alias.")
    return text


STEPS = (
    Step("capacity", Kind.CHOICE, lambda t, _: t.tr(
        "<b>Ask the coalition for help.</b> What kind of help does your organisation need? "
        "(/cancel to stop)"),
        options=lambda t, _: [(k, t.tr(label)) for k, label in v.CAPACITIES.items()], per_row=2),
    Step("urgency", Kind.CHOICE, lambda t, _: t.tr("How urgent is it?"),
         options=lambda t, _: [(k, t.tr(label)) for k, label in sr.URGENCY.items()], per_row=1),
    Step("text", Kind.TEXT, lambda t, _: t.tr(
        "Describe briefly what you need, in one message (up to {n} characters). The "
        "organisations that may help will read it.", n=t.number(solidarity.MAX_TEXT)),
        parse=_text),
    Step("alert", Kind.CHOICE, lambda t, _: t.tr("Is it about one of these alerts?"),
         options=lambda t, draft: [*((str(i), str(title)) for i, title in draft.recent),
                                   ("0", t.tr("Not about an alert"))], per_row=1,
         applies=lambda draft: bool(draft.recent),
         pick=lambda value, _: {"alert": int(value) or None}),
    Step("visibility", Kind.CHOICE, _visibility_question, options=_visibility, per_row=1),
)


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await COMPOSER.allowed(update, where):
        return
    async with where.rt.db.transaction() as session:
        org = await solidarity.asker_org(session, where.user_id)
    if org is None:
        log.info("solidarity.ask_refused")
        await reply(update, where, only_contacts)
        return
    await COMPOSER.open(update, where, {}, draft=Draft(
        low=solidarity.anonymous_by_default(org)))


async def submit(update: Update, where: Here, draft: Draft) -> None:
    """The last answer given: the request and its copies, in one transaction (rule D)."""
    ask = solidarity.Ask(
        capacity=draft.capacity or "", urgency=draft.urgency or "", text=draft.text or "",
        visibility="coordinators" if draft.visibility == "coord" else "members",
        anonymous=draft.visibility != "named", alert_id=draft.alert)
    if not ask.valid():
        return
    settings = where.rt.settings
    now = where.rt.clock.now()
    language = "en" if where.language == "en" else "es"
    async with where.rt.db.transaction() as session:
        org = await solidarity.asker_org(session, where.user_id)
        if org is None:
            created = None
        else:
            title = None
            if ask.alert_id:  # still one this organisation may name (it was offered)
                ask = dataclasses.replace(ask, alert_id=await solidarity.alert_for_request(
                    session, ask.alert_id, org.id))
                alert = await alerts.get(session, ask.alert_id) if ask.alert_id else None
                title = alert.title if alert is not None else None
            recipients = await members_view.coordination_recipients(
                session, settings.coordinator_ids, settings.coordination_chat_id)
            created = await solidarity.create(
                session, org, where.user_id, ask, language, now,
                sr.request_copy(settings.timezone, org, title),
                sr.coordinator_copies(recipients, settings.default_language,
                                      settings.timezone, escalated=False),
                settings.default_language)
        await conversations.finish(session, where.chat_id, where.user_id)
    if created is None:
        await reply(update, where, only_contacts)
        return
    where.rt.wake_sender()
    log.info("solidarity.asked request=%d chats=%d", created.request_id, created.chats)

    def build(t: Text) -> str:
        label = sr.capacity_label(t, ask.capacity)
        if ask.visibility == "coordinators":
            text = t.tr("Your request #{id} went to the coordinators only; they will look for "
                        "help.", id=created.request_id)
        elif created.orgs:
            text = t.tr_plural("Your request #{id} was sent to {n} organisation that offers "
                               "{capacity}. Its offers will appear here, and you choose whether to "
                               "meet.",
                               "Your request #{id} was sent to {n} organisations that offer "
                               "{capacity}, the closest first. Their offers will appear here, and "
                               "you choose whom to meet.", created.orgs, id=created.request_id,
                               capacity=label)
        else:
            text = t.tr("Your request #{id} is open, but no other organisation offers {capacity} "
                        "right now. The coordinators can see it.", id=created.request_id,
                        capacity=label)
        if ask.anonymous and ask.visibility == "members":
            text += " " + t.tr("It does not name your organisation.")
        return text + "\n\n" + t.tr("When it is settled, close it with one of these buttons.")

    await reply(update, where, build, markup=InlineKeyboardMarkup.de_json(
        {"inline_keyboard": sr.close_buttons(created.request_id, where.language)}, None))


COMPOSER = Composer(
    FLOW, STEPS, StateDrafts.of(Draft), submit,
    cancelled=lambda t: t.tr("Cancelled. Nothing was changed."),
    private_only=lambda t: t.tr("Please send /ask to me in a private chat: requests for help "
                                "start there."), who=Who.CONTACT)


# --- offers under a request (rule A) ------------------------------------------------------------

OFFER_TEXT: dict[solidarity.Outcome, str] = {
    solidarity.Outcome.RECORDED: i18n.N_("Thank you: your organisation's answer is recorded."),
    solidarity.Outcome.UNCHANGED: i18n.N_("Thank you: your organisation's answer is recorded."),
    solidarity.Outcome.STRANGER: i18n.N_("You do not answer for an organisation this request "
                                         "was sent to, so nothing was recorded."),
    solidarity.Outcome.NOT_REACHED: i18n.N_("This request was not sent to your organisation."),
    solidarity.Outcome.NEEDS_CONTACT: i18n.N_("Only your organisation's contacts can offer "
                                              "help for it."),
    solidarity.Outcome.LOCKED: i18n.N_("Your organisation's offer was already accepted."),
    solidarity.Outcome.CLOSED: i18n.N_("This request is closed."),
    solidarity.Outcome.INVALID: i18n.N_("This button is no longer valid."),
}


@on(sr.OfferPress, owner=Owner.DATA)
async def offer_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                       pressed: sr.OfferPress) -> None:
    where = await here(update, context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    settings = where.rt.settings
    now = where.rt.clock.now()
    kind = "not_now" if pressed.kind == "no" else "can_help"
    async with where.rt.db.transaction() as session:
        result = await solidarity.answer(
            session, pressed.request, where.chat_id, where.private, where.user_id, kind, now,
            intro=pressed.kind == "intro", name=user.full_name, username=user.username)
        notified = False
        reachable = await people.is_reachable(session, where.user_id)
        if result.new_offer and result.org_id is not None:
            request = await solidarity.get(session, pressed.request)
            offer = await solidarity.offer_of(session, pressed.request, result.org_id)
            helper = await solidarity.org(session, result.org_id)
            if request is not None and offer is not None and request.asked_by is not None:
                chat = request.asked_by
                choice = await chats.language_of(session, chat, request.language)
                await outbox.enqueue(
                    session, f"help.offer:{request.id}:{result.org_id}", "help.offer",
                    [sr.offer_notice(chat, choice, settings.timezone, request, helper, offer)],
                    now)
                notified = True
    if notified:
        where.rt.wake_sender()
    log.info("solidarity.answer request=%d outcome=%s", pressed.request, result.outcome.value)
    text = where.t.tr(OFFER_TEXT[result.outcome])
    unreachable = False
    if result.outcome is solidarity.Outcome.RECORDED and kind == "can_help":
        text = where.t.tr("Thank you: the organisation that asked sees your offer. If it accepts, "
                          "I write to you in private.")
        if not reachable:  # rule P: the bot cannot write first to someone who never started it
            unreachable = True
            text = where.t.tr("Thank you: the organisation that asked sees your offer. To be put "
                              "in touch if it accepts, open a private chat with me and send "
                              "/start.")
    await query.answer(text, show_alert=unreachable or result.outcome in (
        solidarity.Outcome.NOT_REACHED, solidarity.Outcome.NEEDS_CONTACT,
        solidarity.Outcome.STRANGER))


# --- accepting an offer -------------------------------------------------------------------------

ACCEPT_TEXT: dict[solidarity.Acceptance, str] = {
    solidarity.Acceptance.ALREADY: i18n.N_("You already accepted this offer."),
    solidarity.Acceptance.NOT_ASKER: i18n.N_("Only the contacts of the organisation that asked "
                                             "can accept an offer."),
    solidarity.Acceptance.CLOSED: i18n.N_("This request is closed."),
    solidarity.Acceptance.GONE: i18n.N_("This offer can no longer be accepted."),
    solidarity.Acceptance.INVALID: i18n.N_("This button is no longer valid."),
}


@on(sr.AcceptPress, owner=Owner.DATA)
async def accept_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: sr.AcceptPress) -> None:
    where = await here(update, context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    if not where.private:
        await query.answer(stale_text(where.t))
        return
    settings = where.rt.settings
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        result = await solidarity.accept(session, pressed.request, pressed.org, where.user_id,
                                         bool(pressed.intro), now,
                                         has_username=bool(user.username))
        if result.outcome is solidarity.Acceptance.ACCEPTED and result.helper_chat is not None:
            request = await solidarity.get(session, pressed.request)
            offer = await solidarity.offer_of(session, pressed.request, pressed.org)
            assert request is not None and offer is not None
            asker = await solidarity.org(session, request.org_id)
            helper = await solidarity.org(session, pressed.org)
            helper_chat = result.helper_chat
            helper_lang = await chats.language_of(session, helper_chat,
                                                           settings.default_language)
            tz = settings.timezone
            if result.meet == "introduce":
                to_helper = i18n.render(helper_lang, tz, lambda t: sr.intro_for_helper(
                    t, request, asker, user.full_name, user.username))
                to_asker = i18n.render(where.language, tz, lambda t: sr.intro_for_asker(
                    t, request, helper, offer))
            else:
                to_helper = i18n.render(helper_lang, tz,
                                        lambda t: sr.relay_for_helper(t, request, asker))
                to_asker = i18n.render(where.language, tz,
                                       lambda t: sr.relay_for_asker(t, request, helper))
            await outbox.enqueue(
                session, f"help.touch:{request.id}:{pressed.org}", "help.touch",
                [outbox.Outgoing(helper_chat, text=to_helper),
                 outbox.Outgoing(where.chat_id, text=to_asker)], now)
    if result.outcome is not solidarity.Acceptance.ACCEPTED:
        await query.answer(where.t.tr(ACCEPT_TEXT[result.outcome]),
                           show_alert=result.outcome is not solidarity.Acceptance.ALREADY)
        return
    where.rt.wake_sender()
    log.info("solidarity.accepted request=%d meet=%s", pressed.request, result.meet)
    await query.answer(where.t.tr("Accepted."))


# --- closing ------------------------------------------------------------------------------------

@on(sr.ClosePress, owner=Owner.DATA)
async def close_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                       pressed: sr.ClosePress) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    settings = where.rt.settings
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        closed = await solidarity.close(session, pressed.request, where.user_id,
                                        pressed.outcome, now)
        if closed.ok and closed.helper_chats:
            request = await solidarity.get(session, pressed.request)
            assert request is not None
            messages = []
            for _, chat in closed.helper_chats:
                lang = await chats.language_of(session, chat, settings.default_language)
                messages.append(outbox.Outgoing(chat, text=i18n.render(
                    lang, settings.timezone, lambda t: sr.closed_for_helper(t, request))))
            await outbox.enqueue(session, f"help.closed:{request.id}", "help.closed", messages,
                                 now)
    if not closed.ok:
        text = {"not_asker": i18n.N_("Only the contacts of the organisation that asked can "
                                     "close it."),
                "already": i18n.N_("This request is already closed.")}.get(
            closed.reason, i18n.N_("This button is no longer valid."))
        await query.answer(where.t.tr(text), show_alert=closed.reason == "not_asker")
        return
    where.rt.wake_sender()
    log.info("solidarity.closed request=%d outcome=%s", pressed.request, pressed.outcome)
    await query.answer()
    await reply(update, where, lambda t: t.tr(
        "Request #{id} is closed ({outcome}). Thank you; messages are no longer passed on.",
        id=pressed.request, outcome=t.tr(sr.OUTCOME[pressed.outcome])))


# --- relaying between two private chats ---------------------------------------------------------

async def relay_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private message from someone in an open relay (and in no guided flow) is copied to
    the other side, with a header naming only what the other side may read, and goes no
    further; any other message goes on to the free-text router."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or update.effective_chat is None:
        return
    rt = runtime_of(context)
    chat_id = update.effective_chat.id
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        if await conversations.current(session, chat_id, user.id, now) is not None:
            return
        thread = await solidarity.route(session, chat_id, reply_to)
    if thread is None:
        return
    where = await here(update, context)
    if thread == solidarity.AMBIGUOUS or isinstance(thread, str):
        await reply(update, where, lambda t: t.tr(
            "You are in touch about several requests: reply to a passed-on message of the "
            "conversation you mean, and I pass yours on there."))
        raise ApplicationHandlerStop
    settings = rt.settings
    async with rt.db.transaction() as session:
        fresh = await solidarity.record_relay(session, thread, chat_id, message.message_id, now)
        request = await solidarity.get(session, thread.request_id)
        asker = await solidarity.org(session, thread.asker_org_id)
        helper = await solidarity.org(session, thread.offer_org_id)
        lang = await chats.language_of(session, thread.to_chat,
                                                settings.default_language)
        policy = await safety.chat_policy(session, thread.to_chat)
    if not fresh or request is None:
        raise ApplicationHandlerStop
    header = i18n.render(lang, settings.timezone, lambda t: sr.relay_header(
        t, thread.request_id, thread.from_asker, request, asker, helper))
    bot = context.bot
    try:
        if message.text is not None and len(header) + len(message.text) + 1 <= MAX_MESSAGE:
            sent = await bot.send_message(
                thread.to_chat, f"{header}\n{i18n.escape(message.text)}",
                parse_mode=ParseMode.HTML, protect_content=policy.protect or None)
            copy_id = sent.message_id
        else:
            await bot.send_message(thread.to_chat, header, parse_mode=ParseMode.HTML,
                                   protect_content=policy.protect or None)
            copied = await bot.copy_message(thread.to_chat, chat_id, message.message_id,
                                            protect_content=policy.protect or None)
            copy_id = copied.message_id
    except TelegramError:
        log.warning("solidarity.relay_failed request=%d", thread.request_id)
        await reply(update, where, lambda t: t.tr(
            "I could not pass your message on: the other side cannot be reached right now."))
        raise ApplicationHandlerStop from None
    async with rt.db.transaction() as session:
        await solidarity.relayed(session, chat_id, message.message_id, copy_id)
        if policy.org_id is not None:
            await safety.record_sent(session, thread.to_chat, copy_id, now, policy)
    log.info("solidarity.relayed request=%d", thread.request_id)
    raise ApplicationHandlerStop


# --- /requests (coordinators) -------------------------------------------------------------------

async def requests_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    if where.role is not Role.COORDINATOR:
        log.info("solidarity.requests_refused")
        await reply(update, where, lambda t: t.tr("Only coordinators can do this."))
        return
    if not where.private:
        await reply(update, where, lambda t: t.tr(
            "Please send this command to me in our private chat, not in a group."))
        return
    args = context.args or []
    alert_id = whole_number(args[0]) if args else None
    if alert_id is not None:
        async with where.rt.db.transaction() as session:
            pairs = await solidarity.alert_pairs(session, alert_id)
        await reply(update, where, lambda t: sr.pairs_text(t, alert_id, pairs))
        return
    async with where.rt.db.transaction() as session:
        lines = await solidarity.listing(session)
        measured = await solidarity.measures(session)
    await reply(update, where, lambda t: sr.listing_text(t, lines))
    await reply(update, where, lambda t: sr.measures_text(t, measured))
    t = where.t
    chart = sr.measures_chart(t, measured)
    if chart is not None:
        await reply_photo(update, where, chart.png, sr.chart_caption)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("ask", ask_command))
    application.add_handler(CommandHandler("requests", requests_command))
    application.add_handler(MessageHandler(
        filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL, relay_message),
        group=-1)

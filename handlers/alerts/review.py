"""The two-person rule at Send (issue 8): the composer's Send asks the other coordinators to
approve the preview; one of them (never the composer) approves — and the alert goes — or sends it
back. With the rule on, an urgent alert goes at once and the others are told.

Rule R: every button re-checks that the presser is a coordinator writing as themselves; the
composer's own Approve is refused and changes nothing. The request and the flag go to several
chats, so through the outbox (rule D), in the transaction that changes the alert.
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot import i18n
from bot.config import Settings
from bot.db.models import Alert
from bot.delivery import outbox
from bot.i18n import Text
from bot.services.alerts import alerts, review, sending
from bot.services.membership.members_view import Recipient
from bot.services.shared import chats
from handlers.alerts.copies import alert_copy
from handlers.alerts.render import alert_text
from handlers.shared import counts
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, here, reply

log = logging.getLogger(__name__)


@action("alap")
@dataclasses.dataclass(frozen=True)
class ApprovePress:
    alert: int

    def valid(self) -> bool:
        return self.alert > 0


@action("alrj")
@dataclasses.dataclass(frozen=True)
class SendBackPress:
    alert: int

    def valid(self) -> bool:
        return self.alert > 0


def review_note(t: Text, reach: alerts.Reach) -> str:
    return "\n".join([
        t.tr("<b>Approval needed</b> (two-person rule): a coordinator composed the alert above. "
             "It will reach {orgs} in {chats}.", orgs=counts.orgs(t, reach.orgs, bold=True),
             chats=counts.chats(t, len(reach.targets), bold=True)),
        t.tr("Approve to send it now, or send it back to its composer."),
    ])


def urgent_note(t: Text) -> str:
    return t.tr("🚨 <b>Sent at once without a second approval</b> (urgent; two-person rule). "
                "Send /alerts to follow it.")


def request_copy(alert: Alert, reach: alerts.Reach, recipient_language: str | None,
                 default_language: str, timezone: str, chat_id: int,
                 urgent: bool = False) -> outbox.Outgoing:
    """What another coordinator reads: the alert as recipients read it, then the request to
    approve it (with its buttons), or the note that an urgent one went at once."""
    choice = recipient_language if recipient_language in i18n.CHOICES else default_language
    text = alert_text(alert, choice, timezone) + "\n\n— — —\n" + i18n.render(
        choice, timezone, lambda t: urgent_note(t) if urgent else review_note(t, reach))
    rows = None
    if not urgent:
        rows = [[{"text": i18n.label(choice, lambda t: t.tr("Approve and send")),
                  "callback_data": encode(ApprovePress(alert.id))},
                 {"text": i18n.label(choice, lambda t: t.tr("Send back")),
                  "callback_data": encode(SendBackPress(alert.id))}]]
    return outbox.Outgoing(chat_id, text=text, buttons=rows)


async def ask_approval(update: Update, where: Here, alert_id: int) -> None:
    """The composer's Send with the rule on: the alert waits in `review`; the other
    coordinators get its preview with Approve and Send back."""
    settings = where.rt.settings
    now = where.rt.clock.now()
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        others = await review.other_coordinators(
            session, settings.coordinator_ids, settings.coordination_chat_id, where.user_id)
        alert = await alerts.draft_of(session, alert_id, where.user_id)
        if alert is None:
            asked = None
        elif not others:
            asked = False
        else:
            asked = await review.request(session, alert_id, where.user_id, now)
            if asked is not None:
                reach = await alerts.reach(session, asked, settings.default_language)
                await outbox.enqueue(
                    session, f"alert.review:{alert_id}:{int(now.timestamp())}", "alert.review",
                    [request_copy(asked, reach, r.language, settings.default_language,
                                  settings.timezone, r.chat_id) for r in others], now)
    if asked is None:
        await query.answer(where.t.tr("This button is no longer valid."))
        return
    if asked is False:
        await query.answer()
        await reply(update, where, lambda t: t.tr(
            "The two-person rule is on, and no other coordinator can be reached to approve "
            "this alert (they must /start me). It was not sent."))
        return
    where.rt.wake_sender()
    log.info("alerts.review_asked alert=%d", alert_id)
    await query.answer()
    await reply(update, where, lambda t: t.tr(
        "Sent to the other coordinators for approval (two-person rule). It goes as soon as one "
        "of them approves it; I will tell you."))


def urgent_flag_copy(settings: Settings) -> sending.FlagCopy:
    """What the other coordinators read when, with the rule on, an urgent alert went at once
    (the Send sequence decides when; this is how it reads)."""
    def copy(alert: Alert, recipient: Recipient) -> outbox.Outgoing:
        return request_copy(alert, alerts.Reach([], 0), recipient.language,
                            settings.default_language, settings.timezone, recipient.chat_id,
                            urgent=True)
    return copy


def composer_refusal(t: Text) -> str:
    return t.tr("You composed this alert: another coordinator must approve it (two-person rule).")


@on(ApprovePress, owner=Owner.DATA, who=Who.COORDINATOR)
async def approve_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: ApprovePress) -> None:
    where = await here(update, context)  # a coordinator: the route says so (Who.COORDINATOR)
    query = update.callback_query
    assert query is not None
    settings = where.rt.settings
    now = where.rt.clock.now()
    async with where.rt.db.reader() as session:
        alert = await alerts.get(session, pressed.alert)
        composer = alert.composed_by if alert is not None else None
    own = alert is not None and composer == where.user_id
    sent = None
    if alert is not None and not own:
        sent = await sending.send_alert(where.rt.db, settings, pressed.alert, where.user_id, now,
                                        alert_copy(settings.timezone), urgent_flag_copy(settings),
                                        report_chat_id=composer or where.chat_id, approving=True)
    if own:
        log.info("alerts.review_own_refused alert=%d", pressed.alert)
        await query.answer(composer_refusal(where.t), show_alert=True)
        return
    if sent is None:
        await query.answer(where.t.tr("This alert is not waiting for approval any more."),
                           show_alert=True)
        return
    if not sent.first:
        await query.answer(where.t.tr("This alert was already sent."))
        return
    where.rt.wake_sender()
    log.info("alerts.approved alert=%d fanout=%d", sent.alert_id, sent.fanout_id)
    await query.answer(where.t.tr("Approved: sending."))
    await reply(update, where, lambda t: t.tr(
        "Approved. Sending the alert to {orgs} in {chats}; its composer sees the progress.",
        orgs=counts.orgs(t, sent.orgs), chats=counts.chats(t, sent.chats)))


@on(SendBackPress, owner=Owner.DATA, who=Who.COORDINATOR)
async def send_back_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                           pressed: SendBackPress) -> None:
    where = await here(update, context)  # a coordinator: the route says so (Who.COORDINATOR)
    query = update.callback_query
    assert query is not None
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        alert = await alerts.get(session, pressed.alert)
        own = alert is not None and alert.composed_by == where.user_id
        back = None if own else await review.send_back(session, pressed.alert,
                                                             where.user_id, now)
        if back is not None and back.composed_by is not None:
            settings = where.rt.settings
            lang = await chats.language_of(session, back.composed_by, settings.default_language)
            text = i18n.render(lang, settings.timezone, lambda t: t.tr(
                "Another coordinator sent your alert “{title}” back without approving it. "
                "Press Edit under its preview to change it, then Send again.",
                title=back.title))
            await outbox.enqueue(session, f"alert.sent_back:{back.id}:{int(now.timestamp())}",
                                 "alert.review", [outbox.Outgoing(back.composed_by, text=text)],
                                 now)
    if own:
        await query.answer(composer_refusal(where.t), show_alert=True)
        return
    if back is None:
        await query.answer(where.t.tr("This alert is not waiting for approval any more."),
                           show_alert=True)
        return
    where.rt.wake_sender()
    log.info("alerts.sent_back alert=%d", pressed.alert)
    await query.answer(where.t.tr("Sent back to its composer."))


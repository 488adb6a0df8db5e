"""Correct or withdraw a sent alert (issue 8), from its status in /alerts: a guided flow in the
coordinator's private chat (rule C) — the corrected texts (or the reason for withdrawing), a
preview with the counts, then the change of every chat's copy through the outbox, with its
progress like any fan-out (bot/services/alerts/corrections.py).

Rule R: coordinators only, every button and step re-checked; the flow runs in private.
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import InlineKeyboardButton, Update
from telegram.ext import ContextTypes

from bot.db.models import Alert
from bot.db.states import AlertStatus
from bot.delivery.split import split_html
from bot.i18n import Text
from bot.services.alerts import (
    alerts,
    corrections,
    statements,
)
from bot.services.shared import conversations
from handlers.alerts.copies import fix_copy
from handlers.alerts.render import corrected_text, withdrawn_text
from handlers.alerts.statements import signatures_button
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, here, reply
from handlers.shared.guided import PREVIEW, Composer, Kind, Refuse, StateDrafts, Step, stale

log = logging.getLogger(__name__)
FLOW = "alert_fix"
MAX_REASON = 1000


@action("alfx")
@dataclasses.dataclass(frozen=True)
class CorrectPress:
    alert: int

    def valid(self) -> bool:
        return self.alert > 0


@action("alwd")
@dataclasses.dataclass(frozen=True)
class WithdrawPress:
    alert: int

    def valid(self) -> bool:
        return self.alert > 0


@action("alfc")
@dataclasses.dataclass(frozen=True)
class FixConfirm:
    alert: int

    def valid(self) -> bool:
        return self.alert > 0


def follow_through_buttons(t: Text, alert: Alert) -> list[list[InlineKeyboardButton]]:
    """The status view's Correct and Withdraw (none once withdrawn), and Signatures."""
    rows = []
    if alert.withdrawn_at is None:
        rows.append([InlineKeyboardButton(t.tr("Correct"),
                                          callback_data=encode(CorrectPress(alert.id))),
                     InlineKeyboardButton(t.tr("Withdraw"),
                                          callback_data=encode(WithdrawPress(alert.id)))])
    if statements.has_statement(alert):
        rows.append([signatures_button(t, alert.id)])
    return rows


def orphans_line(t: Text, n: int) -> str:
    return t.tr_plural("{n} copy cannot be reached: Telegram's answer to its sending was lost, so "
                       "its message id is unknown.",
                       "{n} copies cannot be reached: Telegram's answer to their sending was lost, "
                       "so their message ids are unknown.", n)


def only_coordinators(t: Text) -> str:
    return t.tr("Only coordinators can do this.")


async def allowed(update: Update, where: Here) -> bool:
    """In private (a coordinator: every route here says so)."""
    if where.private:
        return True
    log.info("alerts.fix_refused")
    query = update.callback_query
    assert query is not None
    await query.answer(where.t.tr("Please do this in your private chat with me."),
                       show_alert=True)
    return False


@dataclasses.dataclass
class Fix:
    """A correction (the texts that replace the alert's) or a withdrawal (its reason)."""

    alert: int = 0
    mode: str = "fix"
    es: str | None = None
    en: str | None = None
    reason: str | None = None


def _reason(where: Here, text: str, fix: Fix) -> dict[str, object] | Refuse:
    reason = text.strip()
    if not reason or reason.startswith("/") or len(reason) > MAX_REASON:
        return Refuse(lambda t: t.tr("The reason is one message of up to {n} characters.",
                                     n=t.number(MAX_REASON)))
    return {"reason": reason}


def _fixing(fix: Fix) -> bool:
    return fix.mode == "fix"


STEPS = (
    Step("body_es", Kind.PARTS, lambda t, _: t.tr(
        "<b>Correcting the alert.</b> Send the corrected text in <b>Spanish</b> (it replaces the "
        "whole Spanish text; several messages are joined), then press Done. Press Done right "
        "away to keep the Spanish text as it is. /cancel to stop."),
        max_chars=alerts.MAX_BODY, applies=_fixing, field="es"),
    Step("body_en", Kind.PARTS, lambda t, _: t.tr(
        "Now the corrected text in <b>English</b>, then Done (Done right away keeps the English "
        "text as it is)."), max_chars=alerts.MAX_BODY, applies=_fixing, field="en"),
    Step("reason", Kind.TEXT, lambda t, _: t.tr(
        "<b>Withdrawing the alert.</b> Why is it withdrawn? Recipients read your reason. "
        "/cancel to stop."), parse=_reason, applies=lambda fix: not _fixing(fix)),
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE, alert_id: int,
                mode: str) -> None:
    where = await here(update, context)
    if not await allowed(update, where):
        return
    query = update.callback_query
    assert query is not None
    async with where.rt.db.reader() as session:
        alert = await alerts.get(session, alert_id)
        usable = (alert is not None and alert.status == AlertStatus.SENT
                  and alert.withdrawn_at is None)
    if not usable:
        await query.answer(where.t.tr("This alert can no longer be changed."), show_alert=True)
        return
    await query.answer()
    await COMPOSER.open(update, where, {}, draft=Fix(alert_id, mode))


@on(CorrectPress, owner=Owner.DATA, who=Who.COORDINATOR)
async def correct_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: CorrectPress) -> None:
    await start(update, context, pressed.alert, "fix")


@on(WithdrawPress, owner=Owner.DATA, who=Who.COORDINATOR)
async def withdraw_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          pressed: WithdrawPress) -> None:
    await start(update, context, pressed.alert, "withdraw")


def preview_alert(alert: Alert, fix: Fix, now: object) -> Alert:
    """The alert as it will read (detached from the session: nothing is written)."""
    if fix.mode == "withdraw":
        alert.withdrawn_at, alert.withdraw_reason = now, fix.reason  # type: ignore[assignment]
    else:
        alert.body_es = fix.es or alert.body_es
        alert.body_en = fix.en or alert.body_en
        alert.corrected_at = now  # type: ignore[assignment]
    return alert


async def confirm(update: Update, where: Here, fix: Fix) -> None:
    """The last text given: the alert as it will read, the chats it changes, and Confirm."""
    alert_id = fix.alert
    settings = where.rt.settings
    async with where.rt.db.reader() as session:
        alert = await alerts.get(session, alert_id)
        if alert is None:
            return
        found = await corrections.plan(session, alert, settings.default_language)
    alert = preview_alert(alert, fix, where.rt.clock.now())
    withdraw = fix.mode == "withdraw"
    text = (withdrawn_text(alert, where.language, where.timezone) if withdraw
            else corrected_text(alert, where.language, where.timezone))
    for part in split_html(text):
        await reply(update, where, lambda t, part=part: part, disable_web_page_preview=True)

    def summary(t: Text) -> str:
        lines = [t.tr_plural("<b>Preview above.</b> I will withdraw the alert in {n} chat.",
                             "<b>Preview above.</b> I will withdraw the alert in {n} chats.",
                             len(found.copies)) if withdraw else
                 t.tr_plural("<b>Preview above.</b> I will correct the alert in {n} chat.",
                             "<b>Preview above.</b> I will correct the alert in {n} chats.",
                             len(found.copies))]
        if found.orphans:
            lines.append(orphans_line(t, found.orphans))
        return "\n".join(lines)

    t = where.t
    markup = COMPOSER.controls(where, fix, InlineKeyboardButton(
        t.tr("Withdraw it") if withdraw else t.tr("Send the correction"),
        callback_data=encode(FixConfirm(alert_id))), edit=False)
    await reply(update, where, summary, markup=markup)


COMPOSER = Composer(
    FLOW, STEPS, StateDrafts.of(Fix), confirm,
    cancelled=lambda t: t.tr("Cancelled. The alert was not changed."),
    private_only=lambda t: t.tr("Please do this in your private chat with me."))


@on(FixConfirm, owner=Owner.ITS_MESSAGE, who=Who.COORDINATOR)
async def confirm_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: FixConfirm) -> None:
    where = await here(update, context)
    if not await allowed(update, where):
        return
    query = update.callback_query
    assert query is not None
    opened = await COMPOSER.load(where) if where.private else None
    if opened is None or opened.step != PREVIEW or opened.draft.alert != pressed.alert:
        await stale(update, where)
        return
    fix = opened.draft
    settings = where.rt.settings
    now = where.rt.clock.now()
    withdraw = fix.mode == "withdraw"
    async with where.rt.db.transaction() as session:
        alert = await alerts.get(session, pressed.alert)
        done = None
        if alert is not None:
            done = await corrections.apply(
                session, pressed.alert, now, fix_copy(settings.timezone),
                settings.default_language, body_es=fix.es or alert.body_es,
                body_en=fix.en or alert.body_en, withdraw_reason=fix.reason if withdraw else None,
                report_chat_id=where.chat_id)
        await conversations.finish(session, where.chat_id, where.user_id)
    if done is None:
        await query.answer(where.t.tr("This alert can no longer be changed."), show_alert=True)
        return
    where.rt.wake_sender()
    log.info("alerts.fixed alert=%d number=%d withdraw=%s chats=%d", pressed.alert, done.number,
             withdraw, done.chats)
    await query.answer()

    def told(t: Text) -> str:
        lines = [t.tr_plural("Withdrawing the alert in {n} chat. The progress follows.",
                             "Withdrawing the alert in {n} chats. The progress follows.",
                             done.chats) if withdraw else
                 t.tr_plural("Correcting the alert in {n} chat. The progress follows.",
                             "Correcting the alert in {n} chats. The progress follows.",
                             done.chats)]
        if done.orphans:
            lines.append(orphans_line(t, done.orphans))
        return "\n".join(lines)

    await reply(update, where, told)

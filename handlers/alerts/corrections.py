"""Correct or withdraw a sent alert (issue 8), from its status in /alerts: a guided flow in the
coordinator's private chat (rule C) — the corrected texts (or the reason for withdrawing), a
preview with the counts, then the change of every chat's copy through the outbox, with its
progress like any fan-out (bot/services/alerts/corrections.py).

Rule R: coordinators only, every button and step re-checked; the flow runs in private.
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
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
from bot.services.shared.roles import Role
from handlers.alerts.copies import fix_copy
from handlers.alerts.render import corrected_text, withdrawn_text
from handlers.alerts.statements import signatures_button
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, anonymous_refusal, here, reply
from handlers.shared.steps import step

log = logging.getLogger(__name__)
FLOW = "alert_fix"
STEPS = ("body_es", "body_en", "reason", "confirm")


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


@action("alfd")
@dataclasses.dataclass(frozen=True)
class FixDone:
    step: str

    def valid(self) -> bool:
        return self.step in ("body_es", "body_en")


@action("alfc")
@dataclasses.dataclass(frozen=True)
class FixConfirm:
    alert: int

    def valid(self) -> bool:
        return self.alert > 0


@action("alfn")
@dataclasses.dataclass(frozen=True)
class FixCancel:
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
    """Rule R: a coordinator writing as themselves, in private."""
    query = update.callback_query
    if where.anonymous or where.role is not Role.COORDINATOR or not where.private:
        log.info("alerts.fix_refused")
        if where.anonymous:
            text = where.text(anonymous_refusal)
        elif where.role is not Role.COORDINATOR:
            text = only_coordinators(where.t)
        else:
            text = where.t.tr("Please do this in your private chat with me.")
        if query is not None:
            await query.answer(text, show_alert=True)
        else:
            await reply(update, where, lambda t: text)
        return False
    return True


def done_markup(t: Text, name: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.tr("Done"),
                                                       callback_data=encode(FixDone(name)))]])


def question(t: Text, name: str) -> str:
    if name == "body_es":
        return t.tr(
            "<b>Correcting the alert.</b> Send the corrected text in <b>Spanish</b> (it "
            "replaces the whole Spanish text; several messages are joined), then press "
            "Done. Press Done right away to keep the Spanish text as it is. /cancel to stop.")
    if name == "body_en":
        return t.tr(
            "Now the corrected text in <b>English</b>, then Done (Done right away keeps the "
            "English text as it is).")
    return t.tr("<b>Withdrawing the alert.</b> Why is it withdrawn? Recipients read your reason. "
                "/cancel to stop.")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE, alert_id: int,
                mode: str) -> None:
    where = await here(update, context)
    if not await allowed(update, where):
        return
    query = update.callback_query
    assert query is not None
    now = where.rt.clock.now()
    first = "body_es" if mode == "fix" else "reason"
    async with where.rt.db.transaction() as session:
        alert = await alerts.get(session, alert_id)
        usable = (alert is not None and alert.status == AlertStatus.SENT
                  and alert.withdrawn_at is None)
        if usable:
            await conversations.save(session, where.chat_id, where.user_id, conversations.State(
                FLOW, first, {"alert": alert_id, "mode": mode}), now)
    if not usable:
        await query.answer(where.t.tr("This alert can no longer be changed."), show_alert=True)
        return
    await query.answer()
    markup = done_markup(where.t, first) if mode == "fix" else None
    await reply(update, where, lambda t: question(t, first), markup=markup)


@on(CorrectPress, owner=Owner.DATA, who=Who.COORDINATOR)
async def correct_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: CorrectPress) -> None:
    await start(update, context, pressed.alert, "fix")


@on(WithdrawPress, owner=Owner.DATA, who=Who.COORDINATOR)
async def withdraw_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          pressed: WithdrawPress) -> None:
    await start(update, context, pressed.alert, "withdraw")


async def state_of(where: Here) -> conversations.State | None:
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id,
                                            where.rt.clock.now())
    return state if state is not None and state.flow == FLOW else None


async def save_state(where: Here, state: conversations.State) -> None:
    async with where.rt.db.transaction() as session:
        await conversations.save(session, where.chat_id, where.user_id, state,
                                 where.rt.clock.now())


@step(FLOW, "body_es")
@step(FLOW, "body_en")
async def body_text(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                    text: str) -> None:
    state = await state_of(where)
    if state is None or where.role is not Role.COORDINATOR:
        return
    lang = state.step.removeprefix("body_")
    current = state.data.get(lang) or ""
    body = f"{current}\n\n{text.strip()}" if current else text.strip()
    if len(body) > alerts.MAX_BODY:
        await reply(update, where, lambda t: t.tr(
            "The text would be longer than {n} characters; that part was not added.",
            n=t.number(alerts.MAX_BODY)), markup=done_markup(where.t, state.step))
        return
    state.data[lang] = body
    await save_state(where, state)
    await reply(update, where, lambda t: t.tr_plural(
        "Added. The text now has {n} character. Send more to add to it, or press Done.",
        "Added. The text now has {n} characters. Send more to add to it, or press Done.",
        len(body)), markup=done_markup(where.t, state.step))


@step(FLOW, "reason")
async def reason_text(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                      text: str) -> None:
    state = await state_of(where)
    if state is None or where.role is not Role.COORDINATOR:
        return
    reason = text.strip()
    if not reason or reason.startswith("/") or len(reason) > 1000:
        await reply(update, where, lambda t: question(t, "reason"))
        return
    state.data["reason"] = reason
    state.step = "confirm"
    await save_state(where, state)
    await confirm(update, where, state)


@step(FLOW, "confirm")
async def buttons_expected(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                           text: str) -> None:
    await reply(update, where, lambda t: t.tr("Please answer with the buttons."))


@on(FixDone, owner=Owner.DATA, who=Who.COORDINATOR)
async def done_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: FixDone) -> None:
    where = await here(update, context)
    if not await allowed(update, where):
        return
    query = update.callback_query
    assert query is not None
    state = await state_of(where)
    if state is None or state.step != pressed.step:
        await query.answer(where.t.tr("This button is no longer valid."))
        return
    await query.answer()
    if state.step == "body_es":
        state.step = "body_en"
        await save_state(where, state)
        await reply(update, where, lambda t: question(t, "body_en"),
                    markup=done_markup(where.t, "body_en"))
        return
    state.step = "confirm"
    await save_state(where, state)
    await confirm(update, where, state)


def preview_alert(alert: Alert, state: conversations.State, now: object) -> Alert:
    """The alert as it will read (detached from the session: nothing is written)."""
    if state.data.get("mode") == "withdraw":
        alert.withdrawn_at, alert.withdraw_reason = now, state.data.get("reason")  # type: ignore[assignment]
    else:
        alert.body_es = state.data.get("es") or alert.body_es
        alert.body_en = state.data.get("en") or alert.body_en
        alert.corrected_at = now  # type: ignore[assignment]
    return alert


async def confirm(update: Update, where: Here, state: conversations.State) -> None:
    alert_id = int(state.data.get("alert") or 0)
    settings = where.rt.settings
    async with where.rt.db.reader() as session:
        alert = await alerts.get(session, alert_id)
        if alert is None:
            return
        found = await corrections.plan(session, alert, settings.default_language)
    alert = preview_alert(alert, state, where.rt.clock.now())
    withdraw = state.data.get("mode") == "withdraw"
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
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(t.tr("Withdraw it") if withdraw else t.tr("Send the correction"),
                             callback_data=encode(FixConfirm(alert_id))),
        InlineKeyboardButton(t.tr("Cancel"), callback_data=encode(FixCancel(alert_id)))]])
    await reply(update, where, summary, markup=markup)


@on(FixConfirm, owner=Owner.ITS_MESSAGE, who=Who.COORDINATOR)
async def confirm_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: FixConfirm) -> None:
    where = await here(update, context)
    if not await allowed(update, where):
        return
    query = update.callback_query
    assert query is not None
    state = await state_of(where)
    if state is None or state.step != "confirm" or int(state.data.get("alert") or 0) \
            != pressed.alert:
        await query.answer(where.t.tr("This button is no longer valid."))
        return
    settings = where.rt.settings
    now = where.rt.clock.now()
    withdraw = state.data.get("mode") == "withdraw"
    async with where.rt.db.transaction() as session:
        alert = await alerts.get(session, pressed.alert)
        done = None
        if alert is not None:
            body_es = state.data.get("es") or alert.body_es
            body_en = state.data.get("en") or alert.body_en
            done = await corrections.apply(
                session, pressed.alert, now, fix_copy(settings.timezone),
                settings.default_language, body_es=body_es, body_en=body_en,
                withdraw_reason=str(state.data.get("reason")) if withdraw else None,
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


@on(FixCancel, owner=Owner.DATA, who=Who.COORDINATOR)
async def cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: FixCancel) -> None:
    where = await here(update, context)
    if not await allowed(update, where):
        return
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        await conversations.finish(session, where.chat_id, where.user_id)
    await query.answer()
    await reply(update, where, lambda t: t.tr("Cancelled. The alert was not changed."))

"""Signing an alert's statement (issue 8): *We sign on* under an alert that carries a statement
opens a short flow in the presser's private chat (rule C) — the name to sign under, then a
confirmation — for the presser's own organisation (only contacts sign, rule A; once per
organisation). Coordinators get the signatories as a CSV and, once the minimum is reached, the
statement ready to publish in both languages, low-profile signatories counted but not named.
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import InlineKeyboardButton, Update
from telegram.ext import ContextTypes

from bot import i18n
from bot.delivery import outbox
from bot.delivery.split import split_html
from bot.i18n import Text, escape
from bot.services.alerts import statements
from bot.services.alerts.statements import Can
from bot.services.shared import chats, conversations, people
from handlers.alerts.render import statement_for
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, here, reply, reply_document
from handlers.shared.guided import PREVIEW, Composer, Kind, Refuse, StateDrafts, Step, stale

log = logging.getLogger(__name__)
FLOW = "alert_sign"


@action("asg")
@dataclasses.dataclass(frozen=True)
class SignConfirm:
    alert: int

    def valid(self) -> bool:
        return self.alert > 0


@action("assv")
@dataclasses.dataclass(frozen=True)
class SignaturesPress:
    alert: int

    def valid(self) -> bool:
        return self.alert > 0


REFUSED: dict[Can, str] = {
    Can.SIGNED: i18n.N_("Your organisation already signed this statement, as “{name}”."),
    Can.NEEDS_CONTACT: i18n.N_("Only your organisation's contacts can sign on or offer help "
                               "for it."),
    Can.NOT_REACHED: i18n.N_("This alert was not sent to your organisation, so this answer "
                             "is not counted."),
    Can.CLOSED: i18n.N_("Signing this statement is closed."),
    Can.INVALID: i18n.N_("This button is no longer valid."),
}


def name_question(t: Text, title: str, org: str) -> str:
    return t.tr("✍️ To sign the statement of “{title}” for <b>{org}</b>, send the name to sign "
                "under (as it should appear when the statement is published). /cancel to stop.",
                title=title, org=org)


async def start_signing(update: Update, where: Here, alert_id: int) -> None:
    """*We sign on* pressed under an alert with a statement, in any chat."""
    query = update.callback_query
    assert query is not None
    now = where.rt.clock.now()
    settings = where.rt.settings
    async with where.rt.db.transaction() as session:
        found = await statements.check(session, alert_id, where.user_id, now)
        alert = await statements.signatures(session, alert_id)
        title = alert.alert.title if alert is not None else ""
        reachable = where.private or await people.is_reachable(session, where.user_id)
        signing = Signing(alert_id, title, found.org_name or "")
        busy = False
        if found.can is Can.SIGN and reachable and not where.private:
            # the question goes to the presser's private chat, where the flow runs (not over
            # another flow open there)
            busy = await COMPOSER.start_in(session, where.user_id, where.user_id, signing,
                                           now) is None
        if not busy and found.can is Can.SIGN and reachable and not where.private:
            lang = await chats.language_of(session, where.user_id, where.language)
            await outbox.enqueue(
                session, f"alert.sign:{alert_id}:{where.user_id}:{int(now.timestamp())}",
                "alert.sign", [outbox.Outgoing(where.user_id, text=i18n.render(
                    lang, settings.timezone,
                    lambda t: name_question(t, title, found.org_name or "")))], now)
    log.info("alerts.sign_pressed alert=%d can=%s", alert_id, found.can.value)
    if found.can is not Can.SIGN:
        await query.answer(where.t.tr(REFUSED[found.can], name=found.signed_as or ""),
                           show_alert=found.can is not Can.INVALID)
        return
    if not reachable:
        await query.answer(where.t.tr("Please open a private chat with me and send /start, then "
                                      "press “We sign on” again."), show_alert=True)
        return
    if busy:
        await query.answer(where.t.tr("Something is open in our private chat: finish it there, "
                                      "or send /cancel, then press “We sign on” again."),
                           show_alert=True)
        return
    if where.private:
        await query.answer()
        await COMPOSER.open(update, where, {}, draft=signing)
        return
    where.rt.wake_sender()
    await query.answer(where.t.tr("I wrote to you in private: sign there."), show_alert=True)


@dataclasses.dataclass
class Signing:
    """A signature until it is confirmed: the alert, what the question names, the name given."""

    alert: int = 0
    title: str = ""
    org: str = ""
    name: str | None = None


def _name(where: Here, text: str, signing: Signing) -> dict[str, object] | Refuse:
    name = statements.clean_name(text)
    if name is None:
        return Refuse(lambda t: t.tr(
            "That name cannot be used: one line of up to 200 characters, not starting with "
            "“/”. Send the name to sign under."))
    return {"name": name}


async def confirm(update: Update, where: Here, signing: Signing) -> None:
    """The name given: still allowed to sign? Then Sign or Cancel."""
    async with where.rt.db.transaction() as session:
        found = await statements.check(session, signing.alert, where.user_id,
                                       where.rt.clock.now())
        signatures = await statements.signatures(session, signing.alert)
        if found.can is not Can.SIGN or signatures is None:
            await conversations.finish(session, where.chat_id, where.user_id)
    if found.can is not Can.SIGN or signatures is None:
        await reply(update, where, lambda t: t.tr(REFUSED[found.can], name=found.signed_as or ""))
        return
    markup = COMPOSER.controls(where, signing, InlineKeyboardButton(
        where.t.tr("Sign"), callback_data=encode(SignConfirm(signing.alert))), edit=False)
    await reply(update, where, lambda t: t.tr(
        "Sign the statement of “{title}” for <b>{org}</b> under the name “{name}”?",
        title=signatures.alert.title, org=found.org_name or "", name=signing.name),
        markup=markup)


COMPOSER = Composer(
    FLOW, (Step("name", Kind.TEXT, lambda t, s: name_question(t, s.title, s.org), parse=_name),),
    StateDrafts.of(Signing), confirm, cancelled=lambda t: t.tr("Cancelled. Nothing was signed."),
    private_only=lambda t: t.tr("Please do this in your private chat with me."),
    who=Who.ANYONE)


@on(SignConfirm, owner=Owner.ITS_MESSAGE)
async def confirm_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: SignConfirm) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    opened = await COMPOSER.load(where) if where.private else None
    if opened is None or opened.step != PREVIEW or opened.draft.alert != pressed.alert:
        await stale(update, where)
        return
    name = opened.draft.name or ""
    async with where.rt.db.transaction() as session:
        done = await statements.sign(session, pressed.alert, where.user_id, name,
                                           where.rt.clock.now())
        await conversations.finish(session, where.chat_id, where.user_id)
    log.info("alerts.signed alert=%d can=%s", pressed.alert, done.can.value)
    await query.answer()
    if done.can is not Can.SIGN:
        await reply(update, where, lambda t: t.tr(REFUSED[done.can], name=done.signed_as or ""))
        return
    await reply(update, where, lambda t: t.tr(
        "Signed: {org} signs the statement as “{name}”. Thank you.", org=done.org_name or "",
        name=name))


# -- coordinators: the signatories ----------------------------------------------------------------

def signatures_button(t: Text, alert_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.tr("Signatures"), callback_data=encode(SignaturesPress(alert_id)))


def published_text(t: Text, found: statements.Signatures) -> str:
    """The statement ready to publish in one language: named signatories, low-profile ones
    counted only."""
    lines = [f"<b>{escape(found.alert.title)}</b>", "",
             escape(statement_for(found.alert, t.lang)), "", t.tr("<b>Signed by:</b>")]
    lines += [f"• {escape(name)}" for name in found.named]
    if found.unnamed:
        lines.append(t.tr_plural("…and {n} more organisation that signed without being named.",
                                 "…and {n} more organisations that signed without being named.",
                                 found.unnamed))
    return "\n".join(lines)


@on(SignaturesPress, owner=Owner.DATA, who=Who.COORDINATOR)
async def signatures_view(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          pressed: SignaturesPress) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if not (where.private or where.chat_id == where.rt.settings.coordination_chat_id):
        await query.answer(where.t.tr("Alerts' follow-up names member organisations, so I show it "
                                      "only in your private chat with me (or the coordination "
                                      "group)."), show_alert=True)
        return
    async with where.rt.db.reader() as session:
        found = await statements.signatures(session, pressed.alert)
    if found is None:
        await query.answer(where.t.tr("This button is no longer valid."))
        return
    await query.answer()
    log.info("alerts.signatures alert=%d count=%d", pressed.alert, len(found.signatories))
    await reply_document(update, where, statements.csv_bytes(found),
                         f"signatures-alert-{pressed.alert}.csv", protect=True)
    missing = found.minimum - len(found.signatories)
    await reply(update, where, lambda t: t.tr_plural(
        "<b>{n} signature</b> (at least {minimum} before publishing), {hidden} of them "
        "low-profile (counted, never named).",
        "<b>{n} signatures</b> (at least {minimum} before publishing), {hidden} of them "
        "low-profile (counted, never named).", len(found.signatories),
        minimum=t.number(found.minimum), hidden=t.number(found.unnamed)) + "\n" + (
        t.tr("Ready to publish: the text in both languages follows.") if missing <= 0 else
        t.tr_plural("{n} more signature is needed before the statement can be published.",
                    "{n} more signatures are needed before the statement can be published.",
                    missing)))
    if missing <= 0:
        for lang in i18n.LANGUAGES:
            for part in split_html(published_text(Text(lang, where.timezone), found)):
                await reply(update, where, lambda t, part=part: part)

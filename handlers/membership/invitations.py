"""/invitations: the coordinators' list of open invitations, a page at a time, each one
withdrawable (issue 21, item 1). Only a coordinator, writing as themselves, in private."""

from __future__ import annotations

import dataclasses
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.i18n import N_, Text
from bot.services.membership import invitations
from bot.services.shared import vocabulary as v
from bot.services.shared.roles import Role
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, anonymous_refusal, here, page_buttons, reply
from handlers.shared.pressed import redraw

log = logging.getLogger(__name__)
CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@action("invp")
@dataclasses.dataclass(frozen=True)
class InvitationsPage:
    page: int

    def valid(self) -> bool:
        return 0 <= self.page < 10_000


@action("invw")
@dataclasses.dataclass(frozen=True)
class WithdrawInvitation:
    code: str
    page: int

    def valid(self) -> bool:
        return 0 < len(self.code) <= 40 and set(self.code) <= CODE_CHARS and self.page >= 0


def _only_coordinators(t: Text) -> str:
    return t.tr("Only coordinators can do this.")


def _text(found: invitations.InvitationPage, note: str | None = None):  # type: ignore[no-untyped-def]
    def build(t: Text) -> str:
        lines = [t.tr("<b>Open invitations: {n}</b>", n=t.number(found.total))]
        if note:
            lines.append(t.tr(note))
        lines.append("")
        start = found.page * invitations.PAGE_SIZE
        for n, row in enumerate(found.rows, start=start + 1):
            until = t.moment(row.expires_at)
            if row.colleague:
                line = t.tr("{n}. A colleague for <b>{name}</b>, made by {maker}, until {date}",
                            n=n, name=row.org_name or "—", maker=row.made_by, date=until)
            elif row.org_name:
                line = t.tr("{n}. Registration of <b>{name}</b> ({tier}), made by {maker}, "
                            "until {date}", n=n, name=row.org_name,
                            tier=t.tr(v.TIERS.get(row.tier or "", row.tier or "—")),
                            maker=row.made_by, date=until)
            else:
                line = t.tr("{n}. Registration of an organisation, made by {maker}, until {date}",
                            n=n, maker=row.made_by, date=until)
            lines.append(line)
        if not found.rows:
            lines.append(t.tr("No invitation is open."))
        if found.pages > 1:
            lines += ["", t.tr("Page {page} of {pages}", page=t.number(found.page + 1),
                               pages=t.number(found.pages))]
        return "\n".join(lines)

    return build


def _keyboard(found: invitations.InvitationPage, where: Here) -> InlineKeyboardMarkup | None:
    start = found.page * invitations.PAGE_SIZE
    rows = [[InlineKeyboardButton(
        where.label(lambda t, n=n: t.tr("Withdraw {n}", n=n)),
        callback_data=encode(WithdrawInvitation(row.code, found.page)))]
        for n, row in enumerate(found.rows, start=start + 1)]
    nav = page_buttons(where, found.page, found.pages, lambda n: encode(InvitationsPage(n)))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows) if rows else None


async def invitations_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    if where.role is not Role.COORDINATOR:
        log.info("invitations.refused")
        await reply(update, where, _only_coordinators)
        return
    if not where.private:
        await reply(update, where, lambda t: t.tr(
            "The list of invitations names organisations, so I show it only in your private "
            "chat with me. Please send /invitations there."))
        return
    async with where.rt.db.reader() as session:
        found = await invitations.open_invitations(session, where.rt.clock.now())
    await reply(update, where, _text(found), markup=_keyboard(found, where))


@on(InvitationsPage, WithdrawInvitation, owner=Owner.ITS_MESSAGE, who=Who.COORDINATOR)
async def invitations_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                             pressed: InvitationsPage | WithdrawInvitation) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    # A coordinator (the route says so), on a message in their private chat.
    if not where.private:
        log.info("invitations.button_refused")
        await query.answer(where.t.tr("Only coordinators can do this."), show_alert=True)
        return
    now = where.rt.clock.now()
    note = None
    if isinstance(pressed, WithdrawInvitation):
        async with where.rt.db.transaction() as session:
            done = await invitations.withdraw(session, pressed.code, where.user_id, now)
        log.info("invitations.withdrawn done=%s", done)
        note = (N_("Withdrawn: that link no longer works.") if done
                else N_("That invitation was already used, expired or withdrawn."))
    async with where.rt.db.reader() as session:
        found = await invitations.open_invitations(session, now, pressed.page)
    await query.answer(where.t.tr(note) if note else None)
    if isinstance(query.message, Message):
        await redraw(query, where.text(_text(found, note)), parse_mode=ParseMode.HTML,
                     reply_markup=_keyboard(found, where))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add this module's command."""
    application.add_handler(CommandHandler("invitations", invitations_command))

"""Coordinators' views and team: /members, /export, /coordinators (issue 5).

Rule R: each command and button checks the person is a coordinator, and an anonymous admin is
never one. Lists of organisations and the export name members, some of them under threat, so
they are shown only where no one else reads: a coordinator's private chat (and, for /members,
the coordination group); the export is also sent with `protect_content` so it cannot be
forwarded or saved from Telegram.
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import (
    BotCommandScopeChat,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.commands import publish_for_coordinator
from bot.i18n import Text
from bot.numbers import whole_number
from bot.services.membership import members_view
from bot.services.membership.members_view import Change
from bot.services.shared import people
from bot.services.shared import vocabulary as v
from bot.services.shared.roles import Role
from handlers.membership.organisations import STATUS
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import (
    Build,
    Here,
    anonymous_refusal,
    here,
    page_buttons,
    reply,
    reply_document,
)
from handlers.shared.pressed import redraw

log = logging.getLogger(__name__)
MAX_ID = 2**53


@action("mem")
@dataclasses.dataclass(frozen=True)
class MembersPage:
    """A page of /members; the filters travel packed (`members_view.pack_filters`)."""

    page: int
    filters: str

    def valid(self) -> bool:
        return 0 <= self.page < 10_000 and members_view.unpack_filters(self.filters) is not None


def _only_coordinators(t: Text) -> str:
    return t.tr("Only coordinators can do this.")


def _private_view(t: Text) -> str:
    return t.tr("This list names member organisations, so I show it only in your private chat "
                "with me. Please send the command there.")


async def _coordinator(update: Update, where: Here) -> bool:
    """Rule R for commands: refuse everyone but a coordinator writing as themselves."""
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return False
    if where.role is not Role.COORDINATOR:
        log.info("coordination.refused")
        await reply(update, where, _only_coordinators)
        return False
    return True


def _view_allowed(where: Here) -> bool:
    return where.private or where.chat_id == where.rt.settings.coordination_chat_id


# -- /members -----------------------------------------------------------------------------------

def _filters_help(t: Text) -> str:
    return "\n".join([
        t.tr("Filters are written name=value, for example: /members state=Jalisco topic=tax "
             "status=pending"),
        t.tr("• state: a Mexican state or a country, by name or code (Jalisco or MX-JAL, "
             "Guatemala or GT…)"),
        t.tr("• topic: {values}", values=", ".join(v.TOPICS)),
        t.tr("• capacity: {values}", values=", ".join(v.CAPACITIES)),
        t.tr("• kind: {values}", values=", ".join(v.KINDS)),
        t.tr("• tier: {values}", values=", ".join(v.TIERS)),
        t.tr("• scope: {values}", values=", ".join(v.SCOPES)),
        t.tr("• status: {values}", values=", ".join(members_view.STATUSES)),
        t.tr("• reachable: yes, no"),
    ])


def _members_text(page: members_view.MemberPage, filters: dict[str, str]) -> Build:
    def build(t: Text) -> str:
        counts = ", ".join(f"{t.tr(STATUS.get(s, s))}: {t.number(n)}"
                           for s, n in sorted(page.by_status.items()))
        lines = [t.tr("<b>Organisations: {n}</b>", n=t.number(page.total))]
        if counts:
            lines.append(counts)
        lines.append(t.tr("Unreachable: {n}", n=t.number(page.unreachable)))
        if filters:
            lines.append(t.tr("Filters: {value}",
                              value=" ".join(f"{k}={val}" for k, val in filters.items())))
        lines.append("")
        start = page.page * members_view.PAGE_SIZE
        for i, row in enumerate(page.rows, start=start + 1):
            line = t.tr("{n}. <b>{name}</b> (#{id}): {kind}, {tier}, {status}; {areas}; "
                        "member chats: {chats}",
                        n=i, name=row.name, id=row.org_id,
                        kind=t.tr(v.KINDS.get(row.kind, row.kind)),
                        tier=t.tr(v.TIERS.get(row.tier, row.tier)),
                        status=t.tr(STATUS.get(row.status, row.status)),
                        areas=", ".join(row.areas) or "—", chats=t.number(row.chats))
            if not row.reachable:
                line += " " + t.tr("⚠️ unreachable")
            lines.append(line)
        if not page.rows:
            lines.append(t.tr("No organisation matches."))
        if page.pages > 1:
            lines += ["", t.tr("Page {page} of {pages}", page=t.number(page.page + 1),
                               pages=t.number(page.pages))]
        return "\n".join(lines)

    return build


def _members_keyboard(page: members_view.MemberPage, filters: dict[str, str],
                      where: Here) -> InlineKeyboardMarkup | None:
    packed = members_view.pack_filters(filters) or "-"
    row = page_buttons(where, page.page, page.pages, lambda n: encode(MembersPage(n, packed)))
    return InlineKeyboardMarkup([row]) if row else None


async def members_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await _coordinator(update, where):
        return
    if not _view_allowed(where):
        await reply(update, where, _private_view)
        return
    try:
        filters = members_view.parse_filters(context.args or [])
    except members_view.FilterError as exc:
        bad = str(exc)[:60]
        await reply(update, where, lambda t: t.tr("I do not know the filter “{bad}”.", bad=bad)
                    + "\n\n" + _filters_help(t))
        return
    async with where.rt.db.transaction() as session:
        page = await members_view.members(session, filters)
    await reply(update, where, _members_text(page, filters),
                markup=_members_keyboard(page, filters, where))


@on(MembersPage, owner=Owner.ITS_MESSAGE, who=Who.COORDINATOR)
async def members_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: MembersPage) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if not _view_allowed(where):  # a coordinator (the route says so), where members may show
        log.info("coordination.button_refused")
        await query.answer(where.t.tr("Only coordinators can do this."), show_alert=True)
        return
    filters = members_view.unpack_filters(pressed.filters) or {}
    async with where.rt.db.transaction() as session:
        page = await members_view.members(session, filters, pressed.page)
    await query.answer()
    if isinstance(query.message, Message):
        await redraw(query, where.text(_members_text(page, filters)),
                                      parse_mode=ParseMode.HTML,
                                      reply_markup=_members_keyboard(page, filters, where))


# -- /export ------------------------------------------------------------------------------------

async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await _coordinator(update, where):
        return
    if not where.private:
        await reply(update, where, lambda t: t.tr(
            "The export names every member, so I send it only in your private chat with me. "
            "Please send /export there."))
        return
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        data = await members_view.export_csv(session, where.user_id, now)
    log.info("coordination.exported")
    await reply_document(update, where, data, f"coalition-export-{now:%Y%m%d}.csv",
                         lambda t: t.tr(
                             "The coalition's organisations, member chats and contacts. Keep "
                             "this file safe: it names members, some of them at risk."),
                         protect=True)


# -- /coordinators ------------------------------------------------------------------------------

def _usage(t: Text) -> str:
    return t.tr("Send /coordinators to see the list, /coordinators add 12345 (or reply to a "
                "person's message in a group with /coordinators add) to add a coordinator, and "
                "/coordinators remove 12345 to remove one. Numbers are Telegram user ids.")


def _coordinators_text(rows: list[members_view.CoordinatorRow]) -> Build:
    def build(t: Text) -> str:
        lines = [t.tr("<b>Coordinators: {n}</b>", n=t.number(len(rows)))]
        for row in rows:
            notes = []
            if row.configured:
                notes.append(t.tr("set in COORDINATOR_IDS"))
            if not row.reachable:
                notes.append(t.tr("⚠️ unreachable: has not opened a private chat with me"))
            lines.append(f"• {row.user_id}" + (f" ({'; '.join(notes)})" if notes else ""))
        return "\n".join(lines)

    return build


def _change_refusal(change: Change, target: int) -> Build:
    def build(t: Text) -> str:
        if change is Change.CONFIGURED:
            return t.tr("{id} is set in COORDINATOR_IDS and stays a coordinator: change the "
                        "setting to remove them.", id=target)
        if change is Change.LAST_COORDINATOR:
            return t.tr("{id} is the last coordinator and cannot be removed. Add another one "
                        "first.", id=target)
        if change is Change.NOT_COORDINATOR:
            return t.tr("{id} is not a coordinator.", id=target)
        if change is Change.ALREADY:
            return t.tr("{id} is already a coordinator.", id=target)
        return t.tr("That is not a person I can make a coordinator.")

    return build


def _target(update: Update, args: list[str]) -> int | None:
    """The id typed after add/remove, or the author of the message replied to."""
    if len(args) == 2:
        raw = args[1].strip()
        number = whole_number(raw)
        return number if number is not None and 0 < number < MAX_ID else None
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    if len(args) == 1 and replied is not None and replied.from_user is not None:
        return -1 if replied.from_user.is_bot else replied.from_user.id
    return None


async def coordinators_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await _coordinator(update, where):
        return
    rt = where.rt
    args = [a.lower() if i == 0 else a for i, a in enumerate(context.args or [])]
    if not args:
        async with rt.db.transaction() as session:
            rows = await members_view.coordinators(session, rt.settings.coordinator_ids)
        await reply(update, where, _coordinators_text(rows))
        return
    target = _target(update, args)
    if args[0] not in ("add", "remove") or target is None:
        await reply(update, where, _usage)
        return
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        if args[0] == "add":
            refused = await members_view.add_coordinator(
                session, rt.settings.coordinator_ids, target, where.user_id, now)
        else:
            refused = await members_view.remove_coordinator(
                session, rt.settings.coordinator_ids, target, where.user_id, now)
        reachable = target > 0 and await people.is_reachable(session, target)
    if refused is not None:
        await reply(update, where, _change_refusal(refused, target))
        return
    log.info("coordination.coordinator_%s", "added" if args[0] == "add" else "removed")
    if args[0] == "add":
        if reachable:
            await publish_for_coordinator(context.bot, target, where.t.lang)
        await reply(update, where, lambda t: t.tr(
            "{id} is now a coordinator.", id=target) + ("" if reachable else " " + t.tr(
                "They have not opened a private chat with me yet: ask them to send me /start.")))
        return
    try:
        await context.bot.delete_my_commands(scope=BotCommandScopeChat(target))
    except TelegramError:
        log.info("coordination.menu_not_removed")
    await reply(update, where, lambda t: t.tr("{id} is no longer a coordinator.", id=target))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add this module's commands."""
    application.add_handler(CommandHandler("members", members_command))
    application.add_handler(CommandHandler("export", export_command))
    application.add_handler(CommandHandler("coordinators", coordinators_command))

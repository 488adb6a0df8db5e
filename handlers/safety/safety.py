"""Member safety in Telegram: /privacy, /forget, /exit, /lowprofile (the member-safety issue).

Thin: the erasure and the low-profile rules live in bot/services/safety/erasure.py and
safety.py; here are the confirmations, the refusals and the words. Erasing actions ask for one
confirmation, run in one transaction, and check the WAL out of the SQLite file afterwards (no
erased bytes left).
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import i18n
from bot.db import Session
from bot.delivery import outbox
from bot.delivery.outbox import Outgoing
from bot.delivery.split import split_html
from bot.i18n import Text
from bot.numbers import whole_number
from bot.scheduler import schedule
from bot.services.membership import approvals, members_view, membership
from bot.services.safety import erasure, privacy, safety
from bot.services.shared import conversations
from bot.services.shared.roles import Role
from handlers.safety import tasks
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Build, Here, anonymous_refusal, here, reply
from handlers.shared.guided import Composer, Kind, Refuse, StateDrafts, Step
from handlers.shared.pressed import redraw

log = logging.getLogger(__name__)
FLOW = "lowprofile"
DELETE_CHOICES = (1, 6, 12, 24, 47)


@action("fgt")
@dataclasses.dataclass(frozen=True)
class ConfirmForget:
    """The person confirms that their own data is erased."""


@action("exit")
@dataclasses.dataclass(frozen=True)
class ConfirmExit:
    org_id: int

    def valid(self) -> bool:
        return self.org_id > 0


@action("keep")
@dataclasses.dataclass(frozen=True)
class KeepData:
    """The person changed their mind."""


@action("lp")
@dataclasses.dataclass(frozen=True)
class LowProfileSet:
    """org_id; what: on/off/alias/noalias/delete; value: hours for delete (0 = never)."""

    org_id: int
    what: str
    value: int = 0

    def valid(self) -> bool:
        return (self.org_id > 0 and self.what in ("on", "off", "alias", "noalias", "delete")
                and (self.value == 0 or safety.MIN_DELETE_HOURS <= self.value
                     <= safety.MAX_DELETE_HOURS))


def _names(update: Update) -> list[str]:
    """How Telegram shows the presser now: never stored, only searched for and erased."""
    user = update.effective_user
    if user is None:
        return []
    names = [user.full_name]  # a first name alone would match inside other words
    if user.username:
        names += [user.username, f"@{user.username}"]
    return [n for n in names if n]


def _private_only(t: Text) -> str:
    return t.tr("Please send this command in your private chat with me.")


# -- /privacy -------------------------------------------------------------------------------------

def privacy_text(days: int) -> Build:
    """What the bot keeps, from the catalogue the schema is tested against."""

    def build(t: Text) -> str:
        lines = [t.tr("<b>What this bot keeps, who sees it, and for how long</b>"), ""]
        for kept in privacy.KEPT:
            lines.append(f"• {t.gettext(kept.what)}")
            lines.append("  " + t.tr("Seen by: {who}. Kept: {how_long}.",
                                     who=t.gettext(kept.who),
                                     how_long=t.gettext(kept.how_long).format(days=days)))
            lines.append(f"  <code>{kept.table}: {', '.join(kept.columns)}</code>")
        lines += ["", t.tr(
            "Nothing else: no names or usernames outside the saved messages of the last day, no "
            "phone numbers, no message texts except what is sent to many chats. Logs hold "
            "internal ids and event names only.")]
        lines += ["", t.tr(
            "<b>What Telegram keeps.</b> Chats with bots are not end-to-end encrypted: Telegram "
            "stores these messages on its servers, and the chat's members can read them. Members "
            "of a group see who is in it.")]
        lines += ["", t.tr(
            "<b>What you can do.</b> /forget erases your own data. An organisation's contacts can "
            "use /lowprofile (shown to other members under an alias or not at all, protected "
            "messages, deleted after some hours) and /exit (erase the organisation and leave its "
            "chats at once).")]
        return "\n".join(lines)

    return build


async def privacy_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    text = where.text(privacy_text(where.rt.settings.retention_days))
    bot = context.bot
    for part in split_html(text):
        sent = await bot.send_message(where.chat_id, part, parse_mode=ParseMode.HTML,
                                      protect_content=where.policy.protect)
        if where.policy.org_id is not None:
            async with where.rt.db.transaction() as session:
                await safety.record_sent(session, where.chat_id, sent.message_id, sent.date,
                                         where.policy)


# -- /forget --------------------------------------------------------------------------------------

async def forget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    if not where.private:
        await reply(update, where, _private_only)
        return
    if where.role is Role.COORDINATOR:
        await reply(update, where, lambda t: t.tr(
            "You are a coordinator. Ask another coordinator to remove you with /coordinators "
            "(or the bot's administrator, if you are in its settings), then use /forget."))
        return
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(where.label(lambda t: t.tr("Yes, erase my data")),
                             callback_data=encode(ConfirmForget())),
        InlineKeyboardButton(where.label(lambda t: t.tr("No, keep it")),
                             callback_data=encode(KeepData())),
    ]])
    await reply(update, where, lambda t: t.tr(
        "This erases what the bot keeps about you: your Telegram id and language, that you are "
        "a contact of an organisation, your unfinished steps, and your name on anything you "
        "answered (your organisation's answers stay, without your name). If you are your "
        "organisation's last contact, the coordinators are told it has none. Do you confirm?"),
        markup=markup)


@on(ConfirmForget, KeepData, owner=Owner.ITS_MESSAGE)
async def forget_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: ConfirmForget | KeepData) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    await query.answer()
    if isinstance(pressed, KeepData):
        await redraw(query, where.text(lambda t: t.tr("Nothing was erased.")))
        return
    if where.anonymous or not where.private or where.role is Role.COORDINATOR:
        return
    rt = where.rt
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        result = await erasure.forget_person(
            session, where.user_id, now, _names(update),
            update.effective_user.first_name if update.effective_user else None)
        if result.org_without_contacts and result.org_id is not None:
            key = f"safety.no_contact:{result.org_id}:{now.timestamp():.6f}"
            await _tell_coordinators(session, where, key, "safety.no_contact",
                                     _no_contact_notice(result.org_id))
    await rt.db.checkpoint()
    rt.wake_sender()
    log.info("safety.forgotten")
    await redraw(query, where.text(lambda t: t.tr(
        "Done: the bot no longer keeps anything about you. If you write to it again, it will "
        "know only that new message.")))


def _no_contact_notice(org_id: int) -> Build:
    return lambda t: t.tr(
        "Organisation #{id} has no contact any more: its last contact erased their data. "
        "Invite a new contact with /members.", id=org_id)


async def _tell_coordinators(session: Session, where: Here, key: str, purpose: str,
                             build: Build) -> None:
    """A notice to the coordination chat or every reachable coordinator, in their languages,
    in the caller's transaction (rule D)."""
    rt = where.rt
    recipients = await members_view.coordination_recipients(
        session, rt.settings.coordinator_ids, rt.settings.coordination_chat_id)
    notices = [Outgoing(chat_id=r.chat_id, text=i18n.render(
        r.language if r.language == "both" else (i18n.normalise(r.language)
                                                 or rt.settings.default_language),
        rt.settings.timezone, build)) for r in recipients]
    await outbox.enqueue(session, key, purpose, notices, rt.clock.now())


# -- /exit ----------------------------------------------------------------------------------------

async def exit_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    if not where.private:
        await reply(update, where, _private_only)
        return
    async with where.rt.db.reader() as session:
        org = await membership.org_of(session, where.user_id)
    if org is None:
        await reply(update, where, lambda t: t.tr(
            "Only the contacts of a member organisation can use /exit."))
        return
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(where.label(lambda t: t.tr("Erase everything and leave")),
                             callback_data=encode(ConfirmExit(org.id))),
        InlineKeyboardButton(where.label(lambda t: t.tr("Cancel")),
                             callback_data=encode(KeepData())),
    ]])
    await reply(update, where, lambda t: t.tr(
        "<b>Emergency exit.</b> With one press the bot erases your organisation and all its "
        "contacts (keeping only anonymous counts), deletes its own messages from the last 48 "
        "hours in your organisation's chats, and leaves your groups. The coordinators are told "
        "only that an organisation left. This cannot be undone."), markup=markup)


@on(ConfirmExit, owner=Owner.ITS_MESSAGE)
async def exit_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: ConfirmExit) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    rt = where.rt
    if where.anonymous:
        await query.answer(where.t.tr("Only the contacts of a member organisation can use /exit."),
                           show_alert=True)
        return
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        org = await membership.org_of(session, where.user_id)
        if org is None or org.id != pressed.org_id:
            exited = None
        else:
            exited = await erasure.exit_org(session, org.id, now, _names(update))
        if exited is not None:
            last = [(chat, i18n.render(where.language if chat == where.user_id
                                       else language or where.language,
                                       rt.settings.timezone, _last_message), exited.protected)
                    for chat, language in exited.contacts]
            await schedule(session, tasks.EXIT_KIND, now,
                           tasks.exit_payload(exited.deletions, exited.groups, last))
            await _tell_coordinators(session, where, f"safety.exit:{pressed.org_id}",
                                     "safety.exit", _exit_notice)
    if exited is None:
        await query.answer(where.t.tr("Only the contacts of a member organisation can use /exit."),
                           show_alert=True)
        return
    await rt.db.checkpoint()
    rt.wake_sender()
    log.info("safety.exited")
    # No edit of the confirmation: the clean-up deletes it with the bot's other recent messages,
    # and then sends the last message (rule S: a row in the erasure's own transaction).
    await query.answer(where.t.tr("Erasing…"))


def _last_message(t: Text) -> str:
    """Names no organisation: it stays on the phone, which may be seized or looked at."""
    return t.tr(
        "<b>Emergency exit done.</b> I erased the organisation, its contacts and its chats from "
        "the coalition's bot (only anonymous counts are kept), deleted my messages from the last "
        "48 hours in its chats, and left its groups.\n\n"
        "Telegram does not let a bot delete messages older than 48 hours: they are still in "
        "your chats. To remove them, delete this chat (⋮ → Delete chat) and clear each group's "
        "history, on every device where you use Telegram.")


def _exit_notice(t: Text) -> str:
    return t.tr("An organisation has left the coalition and erased its data.")


# -- /lowprofile ----------------------------------------------------------------------------------

async def _may_manage(where: Here, org_id: int) -> bool:
    """Coordinators, and the organisation's own contacts."""
    if where.anonymous:
        return False
    if where.role is Role.COORDINATOR:
        return True
    async with where.rt.db.reader() as session:
        org = await membership.org_of(session, where.user_id)
    return org is not None and org.id == org_id


def _view(org_id: int, name: str, state: safety.LowProfile, where: Here
          ) -> tuple[Build, InlineKeyboardMarkup]:
    def build(t: Text) -> str:
        lines = [t.tr("<b>Low profile</b> for <b>{name}</b>", name=name)]
        if not state.on:
            lines.append(t.tr("Off: other members may see the organisation's name."))
        else:
            lines.append(t.tr("On: other members never see the organisation's name."))
            lines.append(t.tr("Shown to other members as: {alias}", alias=state.alias)
                         if state.alias else t.tr("Shown to other members: not at all."))
            lines.append(t.tr("Messages to its chats: protected (no forwarding or saving)."))
            lines.append(t.tr_plural("Deleted after {n} hour.", "Deleted after {n} hours.",
                                     state.delete_after_hours)
                         if state.delete_after_hours else t.tr("Not deleted automatically."))
        return "\n".join(lines)

    def button(label: Build, what: str, value: int = 0) -> InlineKeyboardButton:
        return InlineKeyboardButton(where.label(label),
                                    callback_data=encode(LowProfileSet(org_id, what, value)))

    rows = [[button(lambda t: t.tr("Turn off"), "off") if state.on
             else button(lambda t: t.tr("Turn on"), "on")]]
    if state.on:
        rows.append([button(lambda t: t.tr("Set an alias"), "alias"),
                     button(lambda t: t.tr("Show not at all"), "noalias")])
        rows.append([button(lambda t, h=h: t.tr("Delete after {hours} h", hours=h), "delete", h)
                     for h in DELETE_CHOICES])
        rows.append([button(lambda t: t.tr("Never delete"), "delete", 0)])
    return build, InlineKeyboardMarkup(rows)


async def lowprofile_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    if not where.private:
        await reply(update, where, _private_only)
        return
    args = context.args or []
    async with where.rt.db.reader() as session:
        if args and where.role is Role.COORDINATOR:
            org_id = whole_number(args[0], max_digits=15)
            org = await approvals.organisation(session, org_id) if org_id is not None else None
        else:
            org = await membership.org_of(session, where.user_id)
    if org is None or org.status not in safety.LIVE_STATUSES:
        await reply(update, where, lambda t: t.tr(
            "Only an organisation's contacts (or a coordinator, with /lowprofile and the "
            "organisation's number) can change its low profile."))
        return
    state = safety.LowProfile(org.low_profile, org.alias, org.delete_after_hours)
    build, markup = _view(org.id, org.name, state, where)
    await reply(update, where, build, markup=markup)


@on(LowProfileSet, owner=Owner.DATA)
async def lowprofile_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                            pressed: LowProfileSet) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if not await _may_manage(where, pressed.org_id):
        log.info("safety.lowprofile_refused")
        await query.answer(where.t.tr("Only the organisation's contacts or a coordinator can "
                                      "change this."), show_alert=True)
        return
    rt = where.rt
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        if pressed.what in ("on", "off"):
            state = await safety.set_low_profile(session, pressed.org_id, pressed.what == "on",
                                                 where.user_id, now)
        elif pressed.what == "noalias":
            state = await safety.set_alias(session, pressed.org_id, None, where.user_id, now)
        elif pressed.what == "delete":
            state = await safety.set_delete_after(session, pressed.org_id, pressed.value or None,
                                                  where.user_id, now)
        else:
            state = None
        org = await approvals.organisation(session, pressed.org_id)
    await query.answer()
    if pressed.what == "alias":
        await ALIAS.open(update, where, {}, draft=AliasDraft(pressed.org_id))
        return
    if org is None or state is None:
        return
    log.info("safety.lowprofile_changed org=%s", org.id)
    build, markup = _view(org.id, org.name, state, where)
    await redraw(query, where.text(build), reply_markup=markup)


@dataclasses.dataclass
class AliasDraft:
    org_id: int = 0
    alias: str | None = None


def _alias(where: Here, text: str, draft: AliasDraft) -> dict[str, object] | Refuse:
    alias = safety.clean_alias(text)
    if alias is None:
        return Refuse(lambda t: t.tr("An alias is 1 to 60 characters. Type it again, or /cancel."))
    return {"alias": alias}


async def set_alias(update: Update, where: Here, draft: AliasDraft) -> None:
    """The alias typed: kept (for the organisation's contacts or a coordinator), and the
    low-profile view again."""
    rt = where.rt
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        await conversations.finish(session, where.chat_id, where.user_id)
    if not draft.org_id or not await _may_manage(where, draft.org_id):
        await reply(update, where, lambda t: t.tr(
            "Only the organisation's contacts or a coordinator can change this."))
        return
    async with rt.db.transaction() as session:
        state = await safety.set_alias(session, draft.org_id, draft.alias, where.user_id, now)
        org = await approvals.organisation(session, draft.org_id)
    if state is None or org is None:
        await reply(update, where, lambda t: t.tr("Turn the low profile on first."))
        return
    build, markup = _view(org.id, org.name, state, where)
    await reply(update, where, build, markup=markup)


# The alias is the one question this flow asks (the kit's text step: a refused alias is asked
# again; an edit of it, while asked, is read again).
ALIAS = Composer(
    FLOW, (Step("alias", Kind.TEXT, lambda t, _: t.tr(
        "Type the alias other members will see (up to 60 characters), or /cancel."),
        parse=_alias),), StateDrafts.of(AliasDraft), set_alias,
    cancelled=lambda t: t.tr("Cancelled. Nothing was changed."),
    private_only=lambda t: t.tr("Please send this command to me in our private chat, not in a "
                                "group."), who=Who.ANYONE)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("privacy", privacy_command))
    application.add_handler(CommandHandler("forget", forget_command))
    application.add_handler(CommandHandler("exit", exit_command))
    application.add_handler(CommandHandler("lowprofile", lowprofile_command))

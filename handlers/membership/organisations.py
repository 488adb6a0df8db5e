"""An organisation's own business: /link, /profile, /contacts, /leave (issue 5), and migrations.

Rule R: only a contact of an active organisation may change it, and every button re-checks the
presser, whose organisation comes from the database, never from the button's data. /link also
needs the person to administer the group (Telegram's word, `getChatAdministrators`), because a
contact must not enrol a group of strangers. Public and large groups are flagged when linked:
everything the coalition sends to a member chat reaches everyone in it.
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot import i18n
from bot.db.models import Organisation
from bot.delivery.outbox import Outgoing
from bot.i18n import N_, Text
from bot.numbers import whole_number
from bot.runtime import runtime_of
from bot.services.membership import approvals, members_view, membership
from bot.services.shared import chats, conversations
from bot.services.shared import vocabulary as v
from bot.services.shared.roles import Role
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Build, Here, anonymous_refusal, here, is_group_admin, reply
from handlers.shared.pressed import redraw
from handlers.shared.steps import step

log = logging.getLogger(__name__)

LARGE_GROUP = 50
FLOW, STEP_NAME = "profile", "name"
STATUS: dict[str, str] = {
    "pending": N_("Waiting for approval"),
    "active": N_("Active"),
    "suspended": N_("Suspended"),
    "left": N_("Left the coalition"),
    "rejected": N_("Not approved"),
}
LISTS = {"t": ("topics", v.TOPICS), "c": ("capacities", v.CAPACITIES)}


# -- button data (decoded in handlers/shared/callback_data.py like every other) --------------

@action("pfn")
@dataclasses.dataclass(frozen=True)
class EditName:
    """Ask for a new name (free text)."""


@action("pfl")
@dataclasses.dataclass(frozen=True)
class SetOrgLanguage:
    language: str

    def valid(self) -> bool:
        return self.language in v.LANGUAGES


@action("pfe")
@dataclasses.dataclass(frozen=True)
class EditList:
    """Show the toggles of a list ('t' topics, 'c' capacities) or, with 'm', the main buttons."""

    which: str

    def valid(self) -> bool:
        return self.which in ("t", "c", "m")


@action("pft")
@dataclasses.dataclass(frozen=True)
class ToggleItem:
    """Turn one topic or capacity on (1) or off (0): the wanted state, not a flip, so a press
    handled twice (rule U) lands where the person meant."""

    which: str
    index: int
    on: int

    def valid(self) -> bool:
        return (self.which in LISTS and 0 <= self.index < len(LISTS[self.which][1])
                and self.on in (0, 1))


@action("pfa")
@dataclasses.dataclass(frozen=True)
class ToggleAnswering:
    """Set "only our contacts answer for us" (rule A) to the wanted value (1 or 0)."""

    only_contacts: int

    def valid(self) -> bool:
        return self.only_contacts in (0, 1)


@action("ctrm")
@dataclasses.dataclass(frozen=True)
class RemoveContact:
    """A button from before removal asked for confirmation (it now asks)."""

    user_id: int

    def valid(self) -> bool:
        return self.user_id > 0


@dataclasses.dataclass(frozen=True)
class _ContactOf:
    """A contact of an organisation, as a button names them (both ids re-checked on press)."""

    org_id: int
    user_id: int

    def valid(self) -> bool:
        return self.org_id > 0 and self.user_id > 0


@action("ctask")
@dataclasses.dataclass(frozen=True)
class AskRemoveContact(_ContactOf):
    """Asks first: who, and that everyone concerned will be told."""


@action("ctyes")
@dataclasses.dataclass(frozen=True)
class ConfirmRemoveContact(_ContactOf):
    """Removes, once confirmed."""


@action("ctno")
@dataclasses.dataclass(frozen=True)
class CancelRemoveContact:
    org_id: int

    def valid(self) -> bool:
        return self.org_id > 0


@action("leave")
@dataclasses.dataclass(frozen=True)
class ConfirmLeave:
    org_id: int

    def valid(self) -> bool:
        return self.org_id > 0


@action("leaveno")
@dataclasses.dataclass(frozen=True)
class KeepMembership:
    """The person changed their mind."""


# -- shared refusals -----------------------------------------------------------------------------

def _not_contact(t: Text) -> str:
    return t.tr("Only the contacts of an active member organisation can do this.")


def _private_only(t: Text) -> str:
    return t.tr("Please send this command to me in our private chat, not in a group.")


async def _contact_org(update: Update, where: Here) -> Organisation | None:
    """The presser's active organisation, or a refusal already sent (in private only)."""
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return None
    if not where.private:
        await reply(update, where, _private_only)
        return None
    async with where.rt.db.transaction() as session:
        org = await members_view.active_org_of(session, where.user_id)
    if org is None:
        await reply(update, where, _not_contact)
    return org


async def _button_org(update: Update, where: Here) -> Organisation | None:
    """The presser's active organisation for a button; a polite alert otherwise."""
    query = update.callback_query
    assert query is not None
    org = None
    if not where.anonymous:
        async with where.rt.db.transaction() as session:
            org = await members_view.active_org_of(session, where.user_id)
    if org is None:
        log.info("organisations.button_refused")
        await query.answer(where.t.tr("Only the contacts of an active member organisation can do "
                                      "this."), show_alert=True)
    return org


# -- /link and group migrations ------------------------------------------------------------------

async def link_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.private:
        await reply(update, where, lambda t: t.tr(
            "Send /link in the group you want to link, as one of its admins: it will then "
            "receive the coalition's messages for your organisation."))
        return
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    async with where.rt.db.transaction() as session:
        org = await members_view.active_org_of(session, where.user_id)
    if org is None:
        await reply(update, where, _not_contact)
        return
    if not await is_group_admin(context, where.chat_id, where.user_id):
        await reply(update, where, lambda t: t.tr(
            "Only an admin of this group can link it to an organisation."))
        return
    chat = update.effective_chat
    assert chat is not None
    public = bool(chat.username)
    try:
        count: int | None = await context.bot.get_chat_member_count(where.chat_id)
    except TelegramError:
        count = None
    try:
        async with where.rt.db.transaction() as session:
            org = await members_view.active_org_of(session, where.user_id)
            if org is None:
                raise membership.MembershipError(membership.Refusal.NOT_ACTIVE)
            await members_view.link(session, org, where.chat_id, where.user_id, public, count,
                                       where.rt.clock.now())
    except membership.MembershipError as exc:
        log.info("organisations.link_refused reason=%s", exc.refusal.value)
        if exc.refusal is membership.Refusal.LINKED_ELSEWHERE:
            await reply(update, where, lambda t: t.tr(
                "This group is already linked to another organisation. One of that "
                "organisation's contacts must write to the coordinators first."))
        else:
            await reply(update, where, _not_contact)
        return
    log.info("organisations.linked org=%s", org.id)
    large = count is not None and count > LARGE_GROUP

    def build(t: Text) -> str:
        lines = [t.tr("Done: this group now receives the coalition's messages for <b>{name}</b>.",
                      name=org.name)]
        if public:
            lines.append(t.tr("⚠️ This group is <b>public</b>: anyone can find it and read what "
                              "the coalition sends here. Consider a private group."))
        if large:
            lines.append(t.tr("⚠️ This group has <b>{n}</b> members: alerts sent here reach all "
                              "of them.", n=t.number(count or 0)))
        return "\n\n".join(lines)

    await reply(update, where, build)


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its chat (and member chat) moves to the new id, once.

    Telegram announces it twice (in the old chat and the new one), and the sender may meet it
    first as ChatMigrated; `migrate_chat` moves nothing the second time. Two announcements
    handled at the same moment can race on the new row: the loser retries once and finds it.
    """
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat_id, int(message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        old, new = int(message.migrate_from_chat_id), message.chat_id
    else:
        return
    rt = runtime_of(context)
    await chats.move_chat(rt.db, old, new, rt.clock.now())
    log.info("chat.migrated")


# -- /profile ------------------------------------------------------------------------------------

def _areas(org: Organisation, t: Text) -> str:
    return ", ".join(v.region_label(code, t.lang) for code in org.areas or []) or "—"


def _labels(codes: list[str], known: dict[str, str], t: Text) -> str:
    return ", ".join(t.tr(known[c]) for c in codes if c in known) or t.tr("none")


def profile_text(org: Organisation, member_chats: int) -> Build:
    def build(t: Text) -> str:
        answering = (t.tr("Only our contacts") if org.only_contacts_answer
                     else t.tr("Anyone in our member chats, or our contacts"))
        return "\n".join([
            t.tr("<b>{name}</b>", name=org.name),
            t.tr("Kind: {value}", value=t.tr(v.KINDS.get(org.kind, org.kind))),
            t.tr("Membership: {value}", value=t.tr(v.TIERS.get(org.tier, org.tier))),
            t.tr("Scope: {value}", value=t.tr(v.SCOPES.get(org.scope, org.scope))),
            t.tr("Works in: {value}", value=_areas(org, t)),
            t.tr("Topics it follows: {value}", value=_labels(org.topics or [], v.TOPICS, t)),
            t.tr("Capacities it offers: {value}",
                 value=_labels(org.capacities or [], v.CAPACITIES, t)),
            t.tr("Language: {value}", value=i18n.language_name(org.language, t.lang)),
            t.tr("Who answers for us: {value}", value=answering),
            t.tr("Status: {value}", value=t.tr(STATUS.get(org.status, org.status))),
            t.tr("Member chats: {n}", n=t.number(member_chats)),
        ])

    return build


def profile_keyboard(org: Organisation, where: Here) -> InlineKeyboardMarkup:
    other = "en" if org.language == "es" else "es"
    label = where.label
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(label(lambda t: t.tr("Change name")),
                              callback_data=encode(EditName())),
         # named in its own language, as /language does: whoever reads can find theirs
         InlineKeyboardButton("🌐 " + i18n.language_name(other, other),
                              callback_data=encode(SetOrgLanguage(other)))],
        [InlineKeyboardButton(label(lambda t: t.tr("Topics")), callback_data=encode(EditList("t"))),
         InlineKeyboardButton(label(lambda t: t.tr("Capacities")),
                              callback_data=encode(EditList("c")))],
        [InlineKeyboardButton(label(lambda t: t.tr("Who answers for us")),
                              callback_data=encode(ToggleAnswering(
                                  0 if org.only_contacts_answer else 1)))],
    ])


def list_keyboard(org: Organisation, which: str, where: Here) -> InlineKeyboardMarkup:
    field, known = LISTS[which]
    chosen = set(getattr(org, field) or [])
    buttons = [InlineKeyboardButton(("✅ " if code in chosen else "▫️ ")
                                    + where.label(lambda t, lab=lab: t.tr(lab)),
                                    callback_data=encode(ToggleItem(which, i,
                                                                    0 if code in chosen else 1)))
               for i, (code, lab) in enumerate(known.items())]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(where.label(lambda t: t.tr("Done")),
                                      callback_data=encode(EditList("m")))])
    return InlineKeyboardMarkup(rows)


async def _show_profile(update: Update, where: Here, org_id: int, which: str = "m") -> None:
    """Send the profile (a command) or redraw it in place (a button)."""
    async with where.rt.db.transaction() as session:
        org, count = await members_view.profile(session, org_id)
    build = profile_text(org, count)
    markup = profile_keyboard(org, where) if which == "m" else list_keyboard(org, which, where)
    query = update.callback_query
    if query is not None and query.message is not None:
        await redraw(query, where.text(build), parse_mode=ParseMode.HTML,
                                      reply_markup=markup)
    else:
        await reply(update, where, build, markup=markup)


async def profile_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    org = await _contact_org(update, where)
    if org is not None:
        await _show_profile(update, where, org.id)


@on(EditName, SetOrgLanguage, EditList, ToggleItem, ToggleAnswering, owner=Owner.ITS_MESSAGE,
    who=Who.CONTACT)
async def profile_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: object) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    org = await _button_org(update, where)
    if org is None:
        return
    now = where.rt.clock.now()
    which = "m"
    async with where.rt.db.transaction() as session:
        if isinstance(pressed, EditName):
            await conversations.save(session, where.chat_id, where.user_id,
                                     conversations.State(FLOW, STEP_NAME), now)
        elif isinstance(pressed, SetOrgLanguage):
            await members_view.set_language(session, org.id, pressed.language, where.user_id,
                                            now)
        elif isinstance(pressed, ToggleItem):
            field, known = LISTS[pressed.which]
            await members_view.set_item(session, org.id, field, list(known)[pressed.index],
                                        bool(pressed.on), where.user_id, now)
            which = pressed.which
        elif isinstance(pressed, ToggleAnswering):
            await members_view.set_answering(session, org.id, bool(pressed.only_contacts),
                                             where.user_id, now)
        elif isinstance(pressed, EditList):
            which = pressed.which
    await query.answer()
    if isinstance(pressed, EditName):
        await reply(update, where, lambda t: t.tr(
            "Type the organisation's new name (2 to 120 characters), or /cancel."))
        return
    await _show_profile(update, where, org.id, which)


@step(FLOW, STEP_NAME)
async def answer_name(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                      text: str) -> None:
    name = membership.clean_name(text)
    if name is None:
        await reply(update, where, lambda t: t.tr(
            "A name is 2 to 120 characters on one line. Type it again, or /cancel."))
        return
    async with where.rt.db.transaction() as session:
        org = await members_view.active_org_of(session, where.user_id)
        if org is not None:
            await members_view.set_name(session, org.id, name, where.user_id,
                                        where.rt.clock.now())
        await conversations.finish(session, where.chat_id, where.user_id)
    if org is None:
        await reply(update, where, _not_contact)
        return
    await _show_profile(update, where, org.id)


# -- /contacts ----------------------------------------------------------------------------------
# A contact manages their organisation's contacts; a coordinator, any organisation's
# (`/contacts <org id>`), and only a coordinator removes the last one. Removing asks first, names
# the person as Telegram does now (their name is kept nowhere: it is asked for each view), and
# tells the removed person, the other contacts and the coordinators.

async def _names(update: Update, ids: list[int]) -> dict[int, str]:
    """Each person's current name in Telegram, or nothing when Telegram will not say."""
    found: dict[int, str] = {}
    for uid in ids:
        try:
            chat = await update.get_bot().get_chat(uid)
        except TelegramError:
            continue
        name = " ".join(p for p in (chat.first_name, chat.last_name) if p).strip()
        if name:
            found[uid] = name[:64]
    return found


def _person(t: Text, uid: int, names: dict[int, str]) -> str:
    """How a person reads in these views: their name and id, or their id alone (escaped by tr)."""
    name = names.get(uid)
    return t.tr("{name} ({id})", name=name, id=uid) if name else str(uid)


def _contacts_view(org: Organisation, ids: list[int], names: dict[int, str], where: Here,
                   ) -> tuple[Build, InlineKeyboardMarkup | None]:
    coordinator = where.role is Role.COORDINATOR
    removable = len(ids) > 1 or (coordinator and ids)

    def build(t: Text) -> str:
        lines = [t.tr("Contacts of <b>{name}</b>:", name=org.name)]
        for n, uid in enumerate(ids, start=1):
            who = i18n.Safe(_person(t, uid, names))
            lines.append(t.tr("{n}. {who} (you)", n=n, who=who) if uid == where.user_id
                         else t.tr("{n}. {who}", n=n, who=who))
        if len(ids) == 1:
            lines.append(t.tr("An organisation keeps at least one contact; only a coordinator "
                              "can remove the last one."))
        return "\n".join(lines)

    markup = None
    if removable:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            where.label(lambda t, n=n: t.tr("Remove {n}", n=n)),
            callback_data=encode(AskRemoveContact(org.id, uid)))]
            for n, uid in enumerate(ids, start=1)])
    return build, markup


async def _contacts_org(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        where: Here) -> Organisation | None:
    """The organisation whose contacts are shown: a coordinator's `/contacts <id>`, else the
    writer's own."""
    args = context.args or []
    if args and where.role is Role.COORDINATOR and not where.anonymous:
        if not where.private:
            await reply(update, where, _private_only)
            return None
        org_id = whole_number(args[0], max_digits=15)
        async with where.rt.db.reader() as session:
            org = await approvals.organisation(session, org_id) if org_id is not None else None
        if org is None:
            await reply(update, where, lambda t: t.tr("I know no organisation #{id}.",
                                                      id=args[0][:16]))
        return org
    return await _contact_org(update, where)


async def contacts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    org = await _contacts_org(update, context, where)
    if org is None:
        return
    async with where.rt.db.reader() as session:
        ids = await membership.contacts_of(session, org.id)
    build, markup = _contacts_view(org, ids, await _names(update, ids), where)
    await reply(update, where, build, markup=markup)


async def _managed_org(update: Update, where: Here, org_id: int) -> Organisation | None:
    """For a contacts button: the organisation, if the presser may manage its contacts (a
    coordinator, or a contact of it) and pressed in their private chat; else a refusal."""
    query = update.callback_query
    assert query is not None
    org = None
    if not where.anonymous and where.private:
        async with where.rt.db.reader() as session:
            if where.role is Role.COORDINATOR:
                org = await approvals.organisation(session, org_id)
            else:
                own = await members_view.active_org_of(session, where.user_id)
                org = own if own is not None and own.id == org_id else None
    if org is None:
        log.info("organisations.button_refused")
        await query.answer(where.t.tr("Only the contacts of an active member organisation can do "
                                      "this."), show_alert=True)
    return org


@on(RemoveContact, owner=Owner.DATA, who=Who.CONTACT)
async def old_remove_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                            pressed: RemoveContact) -> None:
    """A button from before removal asked first: it now asks (for the presser's organisation)."""
    where = await here(update, context)
    org = await _button_org(update, where)
    if org is not None:
        await ask_remove_button(update, context, AskRemoveContact(org.id, pressed.user_id))


@on(AskRemoveContact, owner=Owner.DATA)
async def ask_remove_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                            pressed: AskRemoveContact) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    org = await _managed_org(update, where, pressed.org_id)
    if org is None:
        return
    async with where.rt.db.reader() as session:
        ids = await membership.contacts_of(session, org.id)
    if pressed.user_id not in ids:
        await query.answer(where.t.tr("That person is not a contact of your organisation."),
                           show_alert=True)
        return
    if len(ids) <= 1 and where.role is not Role.COORDINATOR:
        await query.answer(where.t.tr("An organisation keeps at least one contact; only a "
                                      "coordinator can remove the last one."), show_alert=True)
        return
    names = await _names(update, [pressed.user_id])
    await query.answer()
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(where.label(lambda t: t.tr("Yes, remove")),
                             callback_data=encode(ConfirmRemoveContact(org.id, pressed.user_id))),
        InlineKeyboardButton(where.label(lambda t: t.tr("No, keep")),
                             callback_data=encode(CancelRemoveContact(org.id))),
    ]])
    last = len(ids) <= 1
    await redraw(query, where.text(lambda t: t.tr(
        "Remove {who} as a contact of <b>{name}</b>? They will no longer speak for it; they, the "
        "other contacts and the coordinators will be told.",
        who=i18n.Safe(_person(t, pressed.user_id, names)), name=org.name)
        + ("\n\n" + t.tr("This is its last contact: nobody will speak for the organisation "
                          "until a coordinator invites someone.") if last else "")),
        parse_mode=ParseMode.HTML, reply_markup=markup)


def _removed_notice(org: Organisation, who: str, by_coordinator: bool) -> Build:
    if by_coordinator:
        return lambda t: t.tr("A coordinator removed {who} as a contact of <b>{name}</b> (#{id}).",
                              who=i18n.Safe(who), name=org.name, id=org.id)
    return lambda t: t.tr("{who} is no longer a contact of <b>{name}</b> (#{id}): another contact "
                          "removed them. If this is a mistake, write to the coordinators.",
                          who=i18n.Safe(who), name=org.name, id=org.id)


@on(ConfirmRemoveContact, CancelRemoveContact, owner=Owner.DATA)
async def remove_contact_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                                pressed: ConfirmRemoveContact | CancelRemoveContact) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    org = await _managed_org(update, where, pressed.org_id)
    if org is None:
        return
    rt = where.rt
    if isinstance(pressed, ConfirmRemoveContact):
        by_coordinator = where.role is Role.COORDINATOR
        names = await _names(update, [pressed.user_id])
        async with rt.db.transaction() as session:
            recipients = await members_view.removal_recipients(
                session, org.id, pressed.user_id, where.user_id, rt.settings.coordinator_ids,
                rt.settings.coordination_chat_id)
            notices = []
            for r in recipients:
                lang = r.language or rt.settings.default_language
                who = i18n.render(lang, rt.settings.timezone,
                                  lambda t: _person(t, pressed.user_id, names))
                notices.append(Outgoing(chat_id=r.chat_id, text=i18n.render(
                    lang, rt.settings.timezone, _removed_notice(org, who, by_coordinator))))
            refused = await members_view.remove_contact(
                session, org.id, pressed.user_id, where.user_id, rt.clock.now(), notices,
                by_coordinator=by_coordinator)
        if refused is members_view.Change.LAST_CONTACT:
            await query.answer(where.t.tr("An organisation keeps at least one contact; only a "
                                          "coordinator can remove the last one."),
                               show_alert=True)
            return
        if refused is not None:
            await query.answer(where.t.tr("That person is not a contact of your organisation."),
                               show_alert=True)
            return
        rt.wake_sender()
        log.info("organisations.contact_removed org=%s", org.id)
        await query.answer(where.t.tr("Removed."))
    else:
        await query.answer()
    async with rt.db.reader() as session:
        ids = await membership.contacts_of(session, org.id)
    build, markup = _contacts_view(org, ids, await _names(update, ids), where)
    if query.message is not None:
        await redraw(query, where.text(build), parse_mode=ParseMode.HTML, reply_markup=markup)


# -- /leave -------------------------------------------------------------------------------------

async def leave_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    org = await _contact_org(update, where)
    if org is None:
        return
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(where.label(lambda t: t.tr("Yes, leave the coalition")),
                             callback_data=encode(ConfirmLeave(org.id))),
        InlineKeyboardButton(where.label(lambda t: t.tr("No, stay")),
                             callback_data=encode(KeepMembership())),
    ]])
    await reply(update, where, lambda t: t.tr(
        "Do you confirm that <b>{name}</b> leaves the coalition? Its member chats will stop "
        "receiving the coalition's messages, and the coordinators will be told.",
        name=org.name), markup=markup)


def _left_notice(org_id: int, name: str) -> Build:
    return lambda t: t.tr("Organisation #{id} (<b>{name}</b>) has left the coalition.",
                          id=org_id, name=name)


@on(ConfirmLeave, KeepMembership, owner=Owner.DATA, who=Who.CONTACT)
async def leave_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                       pressed: ConfirmLeave | KeepMembership) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    org = await _button_org(update, where)
    if org is None:
        return
    if isinstance(pressed, KeepMembership):
        await query.answer()
        if query.message is not None:
            await redraw(query, where.text(lambda t: t.tr(
                "Nothing changed: your organisation stays in the coalition.")),
                parse_mode=ParseMode.HTML)
        return
    if pressed.org_id != org.id:
        await query.answer(where.t.tr("Only the contacts of an active member organisation can do "
                                      "this."), show_alert=True)
        return
    rt = where.rt
    async with rt.db.transaction() as session:
        recipients = await members_view.coordination_recipients(
            session, rt.settings.coordinator_ids, rt.settings.coordination_chat_id)
        notice = _left_notice(org.id, org.name)
        notices = [Outgoing(chat_id=r.chat_id, text=i18n.render(
            r.language or rt.settings.default_language, rt.settings.timezone, notice))
            for r in recipients]
        left = await members_view.leave(session, org.id, where.user_id, rt.clock.now(), notices)
    if left:
        rt.wake_sender()
        log.info("organisations.left org=%s", org.id)
    await query.answer()
    if query.message is not None:
        await redraw(query, where.text(lambda t: t.tr(
            "<b>{name}</b> has left the coalition. Thank you for the work together.",
            name=org.name)), parse_mode=ParseMode.HTML)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add this module's commands, and the handler of group migrations."""
    application.add_handler(CommandHandler("link", link_command))
    application.add_handler(CommandHandler("profile", profile_command))
    application.add_handler(CommandHandler("contacts", contacts_command))
    application.add_handler(CommandHandler("leave", leave_command))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))

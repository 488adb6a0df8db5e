"""What every handler does first: who and where, in which language and time zone, and replying.

Handlers stay thin: parse the update, check the role, call a service, render the reply. The reply
is built by a function of a `Text` so one code path renders `es`, `en` and `both`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import i18n
from bot.runtime import Runtime, runtime_of
from bot.services.membership import members_view
from bot.services.safety import safety
from bot.services.shared import chats, people, roles

log = logging.getLogger(__name__)

Build = Callable[[i18n.Text], str]


@dataclass
class Here:
    """The update's chat and person, with the chat's language choice and time zone."""

    rt: Runtime
    chat_id: int
    chat_type: str
    user_id: int
    user_language: str | None
    language: str
    timezone: str
    role: roles.Role
    policy: safety.ChatPolicy = field(default_factory=safety.ChatPolicy)

    @property
    def private(self) -> bool:
        return self.chat_type == ChatType.PRIVATE

    @property
    def anonymous(self) -> bool:
        return self.user_id == roles.ANONYMOUS_ADMIN_ID

    def text(self, build: Build) -> str:
        return i18n.render(self.language, self.timezone, build)

    def label(self, build: Build) -> str:
        return i18n.label(self.language, build)

    @property
    def t(self) -> i18n.Text:
        """A single-language `Text` (the first of `both`) for labels and short answers."""
        return i18n.Text("es" if self.language == "both" else self.language, self.timezone)


# A press's `Here`, read once by the button router to check the route's role and handed to the
# handler's own first `here()` (one reading of the chat and the role per press, not two).
_READ: dict[int, Here] = {}


def keep_for_handler(update: Update, where: Here) -> None:
    _READ[update.update_id] = where


def forget_for_handler(update: Update) -> None:
    _READ.pop(update.update_id, None)


async def here(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Here:
    """Load the chat's settings and the person's role in one transaction."""
    read = _READ.pop(update.update_id, None)
    if read is not None:
        return read
    rt = runtime_of(context)
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None and user is not None
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        await chats.ensure_chat(session, chat.id, chat.type, now)
        settings = await chats.chat_settings(session, chat.id)
        role = await roles.role_of(session, rt.settings.coordinator_ids, user.id)
        policy = await safety.chat_policy(session, chat.id)
        if chat.type == ChatType.PRIVATE:
            await people.ensure_person(session, user.id, user.language_code, now)
    language = (
        settings.language
        or (i18n.normalise(user.language_code) if chat.type == ChatType.PRIVATE else None)
        or rt.settings.default_language
    )
    return Here(rt=rt, chat_id=chat.id, chat_type=chat.type, user_id=user.id,
                user_language=i18n.normalise(user.language_code), language=language,
                timezone=settings.timezone or rt.settings.timezone, role=role, policy=policy)


async def reply(update: Update, where: Here, build: Build,
                markup: InlineKeyboardMarkup | None = None, **kwargs: object) -> Message | None:
    """Answer in the update's chat, in the chat's language, as HTML.

    In a low-profile organisation's chat the answer is protected, and kept for deletion (rule Q).
    """
    message = update.effective_message
    if message is None:
        return None
    if where.policy.protect:
        kwargs.setdefault("protect_content", True)
    sent = await message.get_bot().send_message(
        chat_id=where.chat_id, text=where.text(build), parse_mode=ParseMode.HTML,
        reply_markup=markup, **kwargs,  # type: ignore[arg-type]
    )
    if where.policy.org_id is not None:
        async with where.rt.db.transaction() as session:
            await safety.record_sent(session, where.chat_id, sent.message_id, sent.date,
                                     where.policy)
    return sent


def page_buttons(where: Here, page: int, pages: int,
                 data: Callable[[int], str]) -> list[InlineKeyboardButton]:
    """◀️ Previous / Next ▶️ under a paged list; `data(n)` is the callback data of page n."""
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(where.label(lambda t: t.tr("◀️ Previous")),
                                        callback_data=data(page - 1)))
    if page + 1 < pages:
        row.append(InlineKeyboardButton(where.label(lambda t: t.tr("Next ▶️")),
                                        callback_data=data(page + 1)))
    return row


async def reply_photo(update: Update, where: Here, png: bytes, caption: Build) -> Message | None:
    """A picture (a chart) in the update's chat, under the same chat policy as `reply`:
    protected, and kept for deletion, in a low-profile organisation's chat (rule Q)."""
    return await _reply_file(update, where, "photo", png, None, caption, protect=False)


async def reply_document(update: Update, where: Here, data: bytes, filename: str,
                         caption: Build | None = None, *, protect: bool = False) -> Message | None:
    """A file (a CSV, a calendar entry) in the update's chat, under the chat's policy like every
    reply; `protect` asks for protection where the policy alone would not (a file that names
    members is never forwardable)."""
    return await _reply_file(update, where, "document", data, filename, caption, protect=protect)


async def _reply_file(update: Update, where: Here, kind: str, data: bytes, filename: str | None,
                      caption: Build | None, *, protect: bool) -> Message:
    """The one way a file reaches a chat outside the outbox: with the chat's protection and
    recorded for the low-profile deletion, so no capability can forget either."""
    bot = update.get_bot()
    options: dict[str, Any] = {
        "chat_id": where.chat_id, "protect_content": protect or where.policy.protect,
        "caption": where.text(caption) if caption is not None else None,
        "parse_mode": ParseMode.HTML if caption is not None else None}
    if kind == "photo":
        sent = await bot.send_photo(photo=data, **options)
    else:
        sent = await bot.send_document(document=data, filename=filename, **options)
    if where.policy.org_id is not None:
        async with where.rt.db.transaction() as session:
            await safety.record_sent(session, where.chat_id, sent.message_id, sent.date,
                                     where.policy)
    return sent


async def is_group_admin(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int) -> bool:
    """Whether the person administers the group (`getChatAdministrators` needs no admin rights)."""
    try:
        admins = await context.bot.get_chat_administrators(chat_id)
    except TelegramError:
        log.warning("roles.admin_lookup_failed")
        return False
    return any(
        a.user.id == user_id and a.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)
        for a in admins
    )


def anonymous_refusal(t: i18n.Text) -> str:
    return t.tr(
        "You are writing as an anonymous group admin, so I cannot tell who you are. "
        "Please turn off “Remain anonymous” in the group's admin settings for yourself, "
        "or write to me from your own account."
    )


async def may_change_chat_settings(update: Update, context: ContextTypes.DEFAULT_TYPE,
                                   where: Here) -> bool:
    """Rule R: in private the person; in a group its admins, and in a member chat also the
    contacts of the organisation it speaks for (they may not administer their own group)."""
    if where.private:
        return True
    if where.anonymous:
        return False
    if await is_group_admin(context, where.chat_id, where.user_id):
        return True
    async with where.rt.db.transaction() as session:
        return await members_view.speaks_for_chat(session, where.user_id, where.chat_id)


async def settings_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Here | None:
    """A press on a chat-settings button: answered, and the chat's context if the presser may
    change its settings (rule R); otherwise refused in the callback answer, and None."""
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if not await may_change_chat_settings(update, context, where):
        await query.answer(where.t.tr("Only the group's admins can change this group's settings."),
                           show_alert=True)
        return None
    await query.answer()
    return where

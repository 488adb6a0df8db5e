"""/language: each chat speaks Spanish, English or both (rule L); rule R says who may change it."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.i18n import CHOICES, Text, language_name
from bot.services.shared import chats
from handlers.shared.buttons import Owner, on
from handlers.shared.callback_data import SetLanguage, encode
from handlers.shared.common import (
    Here,
    anonymous_refusal,
    here,
    may_change_chat_settings,
    reply,
    settings_press,
)


def _choice_name(choice: str, t: Text) -> str:
    if choice == "both":
        return t.tr("Spanish and English")
    return language_name(choice, t.lang)


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton("Español", callback_data=encode(SetLanguage("es"))),
        InlineKeyboardButton("English", callback_data=encode(SetLanguage("en"))),
        InlineKeyboardButton("Español + English", callback_data=encode(SetLanguage("both"))),
    ]])


async def refuse(update: Update, where: Here) -> None:
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
    else:
        await reply(update, where, lambda t: t.tr(
            "Only the group's admins can change this group's settings."))


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await may_change_chat_settings(update, context, where):
        await refuse(update, where)
        return
    args = [a.lower() for a in (context.args or [])]
    if not args:
        current = where.language
        await reply(update, where, lambda t: t.tr(
            "This chat's language is <b>{current}</b>. Choose another:",
            current=_choice_name(current, t)), markup=keyboard())
        return
    if len(args) != 1 or args[0] not in CHOICES:
        await reply(update, where, lambda t: t.tr(
            "I do not know that language. Send /language es, /language en or /language both, "
            "or /language alone to choose with buttons."))
        return
    await apply(update, where, args[0])


async def apply(update: Update, where: Here, choice: str) -> None:
    async with where.rt.db.transaction() as session:
        await chats.set_language(session, where.chat_id, where.chat_type, choice,
                                 where.rt.clock.now())
    where.language = choice
    await reply(update, where, lambda t: t.tr("Done: this chat will now get messages in {name}.",
                                              name=_choice_name(choice, t)))


@on(SetLanguage, owner=Owner.DATA)
async def language_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          action: SetLanguage) -> None:
    where = await settings_press(update, context)
    if where is None:
        return
    await apply(update, where, action.choice)

"""The error handler: log the event (never the message), apologise in the chat's language."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import i18n
from bot.runtime import runtime_of

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    log.error("handler.error update=%s type=%s", update_id, type(error).__name__,
              exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    rt = runtime_of(context)
    user = update.effective_user
    lang = i18n.normalise(user.language_code if user else None) or rt.settings.default_language
    t = i18n.Text(lang)
    text = t.tr(
        "Sorry, something went wrong on my side and I could not finish that. "
        "Please try again in a moment."
    )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=True)
        else:
            await context.bot.send_message(update.effective_chat.id, text,
                                           parse_mode=ParseMode.HTML)
    except TelegramError:
        log.warning("handler.apology_failed update=%s", update_id)

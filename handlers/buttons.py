"""Every button press arrives here: decode the data once, then hand the typed action on."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from handlers import callback_data as cd
from handlers import language, timezone
from handlers.common import here

log = logging.getLogger(__name__)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    action = cd.decode(query.data)
    match action:
        case cd.SetLanguage():
            await language.language_button(update, context, action)
        case cd.SetTimezone() | cd.AskTimezoneName():
            await timezone.timezone_button(update, context, action)
        case _:
            log.info("button.unknown")
            where = await here(update, context)
            await query.answer(where.t("This button is no longer valid."), show_alert=False)

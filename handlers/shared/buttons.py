"""Every button press arrives here: decode the data once, then hand the typed action to the
handler its module registered with `@on(ActionClass)`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from handlers.shared import callback_data as cd
from handlers.shared.common import here

log = logging.getLogger(__name__)

ButtonHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Any], Awaitable[None]]
ROUTES: dict[type, ButtonHandler] = {}


def on(*classes: type) -> Callable[[ButtonHandler], ButtonHandler]:
    def register(handler: ButtonHandler) -> ButtonHandler:
        for cls in classes:
            ROUTES[cls] = handler
        return handler

    return register


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    action = cd.decode(query.data)
    handler = ROUTES.get(type(action)) if action is not None else None
    if handler is None:
        log.info("button.unknown")
        where = await here(update, context)
        await query.answer(where.t.tr("This button is no longer valid."), show_alert=False)
        return
    await handler(update, context, action)

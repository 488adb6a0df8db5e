"""Free text and /cancel: route a person's message to the step of their open flow (rule C)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.services.shared import conversations
from handlers.shared.common import here, reply
from handlers.shared.steps import STEPS


async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    where = await here(update, context)
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id,
                                            where.rt.clock.now())
    handler = STEPS.get((state.flow, state.step)) if state else None
    if handler is not None:
        await handler(update, context, where, message.text)
    elif where.private:
        await reply(update, where, lambda t: t.tr(
            "I did not understand that. Send /help to see what I can do."))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id,
                                            where.rt.clock.now())
        await conversations.finish(session, where.chat_id, where.user_id)
    if state is None:
        await reply(update, where, lambda t: t.tr("There is nothing to cancel."))
    else:
        await reply(update, where, lambda t: t.tr("Cancelled. Nothing was changed."))

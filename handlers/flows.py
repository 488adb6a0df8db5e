"""Free text and /cancel: route a person's message to the step of their open flow (rule C)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import conversations
from handlers import timezone
from handlers.common import Here, here, reply

StepHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Here, str], Awaitable[None]]

# flow name -> step name -> handler. Capabilities add their flows here.
STEPS: dict[str, dict[str, StepHandler]] = {
    timezone.FLOW: {timezone.STEP_NAME: timezone.answer_name},
}


async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    where = await here(update, context)
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id,
                                            where.rt.clock.now())
    handler = STEPS.get(state.flow, {}).get(state.step) if state else None
    if handler is not None:
        await handler(update, context, where, message.text)
    elif where.private:
        await reply(update, where, lambda t: t(
            "I did not understand that. Send /help to see what I can do."))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id,
                                            where.rt.clock.now())
        await conversations.finish(session, where.chat_id, where.user_id)
    if state is None:
        await reply(update, where, lambda t: t("There is nothing to cancel."))
    else:
        await reply(update, where, lambda t: t("Cancelled. Nothing was changed."))

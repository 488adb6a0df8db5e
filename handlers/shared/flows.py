"""Free text and /cancel: route a person's message to the step of their open flow (rule C)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.services.shared import conversations
from handlers.shared.common import here, reply
from handlers.shared.steps import EDITS, STEPS

log = logging.getLogger(__name__)


async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    where = await here(update, context)
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id,
                                            where.rt.clock.now())
    if update.edited_message is not None:
        # An edit is not a new answer: appended to the open step it would add the corrected
        # text a second time, or put an earlier step's answer into this one. A flow that knows
        # the edited message as an answer to its open step replaces that answer.
        edits = EDITS.get(state.flow) if state is not None else None
        if edits is not None and await edits(update, context, where, message.message_id,
                                             message.text):
            return
        log.info("flows.edit_not_an_answer")
        if state is not None and where.private:
            await reply(update, where, lambda t: t.tr(
                "I keep what you first sent: editing a message does not change your answer. "
                "You can change it from the summary at the end, or start over with /cancel."))
        return
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

"""The bot's own membership changes: blocked/unblocked in private, added/removed in groups."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.runtime import runtime_of
from bot.services.safety import erasure
from bot.services.shared import chats, people

log = logging.getLogger(__name__)
_PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED)


async def my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    change = update.my_chat_member
    if change is None:
        return
    rt = runtime_of(context)
    present = change.new_chat_member.status in _PRESENT
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        erased = not present and not await chats.known(session, change.chat.id)
        if erased:
            # A chat erased by /exit or /forget (the bot leaving it is the last act of the
            # erasure): keep nothing, not even this update's copy of the chat's title.
            await erasure.forget_update(session, update.update_id)
        else:
            await chats.set_active(session, change.chat.id, change.chat.type, present, now)
            if change.chat.type == ChatType.PRIVATE:
                await people.set_reachable(session, change.chat.id, present, now)
    if erased:
        # The WAL still holds the update as it was saved (the chat's title and id): rule Q.
        await rt.db.checkpoint()
        log.info("chat.left_erased")
        return
    log.info("chat.membership active=%s private=%s", present,
             change.chat.type == ChatType.PRIVATE)

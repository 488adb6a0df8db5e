"""Telegram's side of member safety: deleting the bot's messages and leaving an org's groups.

Why a scheduled row for `/exit`: the erasure commits first (nothing about the organisation is
left to find), and the Telegram work it leaves (deletions, leaving the groups) must survive a crash
in between, so it is a row in the same transaction (rule S). The row carries only chat and message
ids and is blanked when done. The low-profile deletions are found by the sweeper from the rows'
own deletion times, so a restart loses none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.db.models import ScheduledTask
from bot.scheduler import Due, TaskKind
from bot.services import safety

if TYPE_CHECKING:
    from telegram import Bot

    from bot.app import BotService

log = logging.getLogger(__name__)
EXIT_KIND = "safety.exit_cleanup"


async def delete_message(bot: Bot, chat_id: int, message_id: int) -> bool:
    """Delete one message; a message already gone, too old or in a chat we left is done too."""
    for _ in range(5):
        try:
            await bot.delete_message(chat_id, message_id)
            return True
        except RetryAfter as exc:
            await asyncio.sleep(float(exc.retry_after if isinstance(exc.retry_after, int | float)
                                      else exc.retry_after.total_seconds()))
        except (BadRequest, Forbidden):
            return False
    return False


async def leave_chat(bot: Bot, chat_id: int) -> None:
    with contextlib.suppress(BadRequest, Forbidden):
        await bot.leave_chat(chat_id)


def exit_cleanup_kind(service: BotService) -> TaskKind:
    """Delete what `/exit` listed and leave the groups; then forget the list itself."""

    async def run(due: Due) -> None:
        bot = service.application.bot
        for chat_id, message_id in due.payload.get("deletions", []):
            await delete_message(bot, int(chat_id), int(message_id))
        for chat_id in due.payload.get("leave", []):
            await leave_chat(bot, int(chat_id))
        async with service.db.transaction() as session:
            await session.execute(update(ScheduledTask).where(ScheduledTask.id == due.id)
                                  .values(payload={}))
        # The WAL still holds the list's earlier pages (ids of the erased chats): rule Q.
        await service.db.checkpoint()
        log.info("safety.exit_cleanup_done task=%d", due.id)

    # Always worth running: the messages are deletable for 48 hours and leaving has no deadline.
    return TaskKind(EXIT_KIND, run)


def exit_payload(deletions: list[tuple[int, int]], groups: list[int]) -> dict[str, Any]:
    return {"deletions": [[c, m] for c, m in deletions], "leave": groups}


async def sweep_deletions(service: BotService) -> int:
    """Delete the low-profile organisations' messages whose time has come (replies and fan-out
    copies); each row is marked once its messages are handled, deleted or not (a message its
    admins already deleted cannot be deleted again)."""
    now = service.clock.now()
    async with service.db.reader() as session:
        replies = await safety.due_deletions(session, now)
        copies = await safety.due_outbox_deletions(session, now)
    if not replies and not copies:
        return 0
    bot = service.application.bot
    for _, chat_id, message_id in replies:
        await delete_message(bot, chat_id, message_id)
    for _, chat_id, message_ids in copies:
        for message_id in message_ids:
            await delete_message(bot, chat_id, message_id)
    async with service.db.transaction() as session:
        await safety.forget_sent(session, [row for row, _, _ in replies])
        await safety.mark_outbox_deleted(session, [row for row, _, _ in copies], now)
    done = len(replies) + sum(len(ids) for _, _, ids in copies)
    log.info("safety.deleted messages=%d", done)
    return done

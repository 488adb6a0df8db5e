"""Telegram's side of member safety: deleting the bot's messages and leaving an org's groups.

A handler-side task module (it renders texts and talks to Telegram), not part of the delivery
layer, which sends what it is given and knows no capability.

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
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from telegram.error import BadRequest, Forbidden, RetryAfter

from bot import i18n
from bot.delivery import outbox
from bot.delivery.limiter import retry_seconds
from bot.runtime import Runtime
from bot.scheduler import Due, TaskKind
from bot.services.safety import erasure, safety

if TYPE_CHECKING:
    from telegram import Bot

log = logging.getLogger(__name__)
EXIT_KIND = "safety.exit_cleanup"


async def delete_message(bot: Bot, chat_id: int, message_id: int) -> bool:
    """Delete one message; a message already gone, too old or in a chat we left is done too."""
    for _ in range(5):
        try:
            await bot.delete_message(chat_id, message_id)
            return True
        except RetryAfter as exc:  # deleteMessage is not paced: its 429s are waited out here
            await asyncio.sleep(retry_seconds(exc))
        except (BadRequest, Forbidden):
            return False
    return False


async def leave_chat(bot: Bot, chat_id: int) -> None:
    with contextlib.suppress(BadRequest, Forbidden):
        await bot.leave_chat(chat_id)


async def send_last(bot: Bot, chat_id: int, text: str, protect: bool) -> None:
    """The one message a contact reads after `/exit`; a person who blocked the bot gets none.
    A 429 is waited out by the rate limiter every send passes (bot/delivery/limiter.py)."""
    with contextlib.suppress(BadRequest, Forbidden):
        await bot.send_message(chat_id, text, parse_mode="HTML", protect_content=protect)


def task_kinds(rt: Runtime) -> list[TaskKind]:
    return [exit_cleanup_kind(rt)]


def exit_cleanup_kind(rt: Runtime) -> TaskKind:
    """Delete what `/exit` listed and leave the groups, then send each contact the last message
    (after the deletions, so it is the one thing left to read); then forget the list itself.

    A crash after the last message and before the list is blanked sends it once more on the
    re-run: a repeated farewell is better than a lost one, and nothing else repeats harmfully.
    """

    async def run(due: Due) -> None:
        bot = rt.bot
        for chat_id, message_id in due.payload.get("deletions", []):
            await delete_message(bot, int(chat_id), int(message_id))
        for chat_id in due.payload.get("leave", []):
            await leave_chat(bot, int(chat_id))
        for chat_id, text, protect in due.payload.get("last", []):
            await send_last(bot, int(chat_id), str(text), bool(protect))
        async with rt.db.transaction() as session:
            await erasure.forget_task_payload(session, due.id)
        # The WAL still holds the list's earlier pages (ids of the erased chats): rule Q.
        await rt.db.checkpoint()
        log.info("safety.exit_cleanup_done task=%d", due.id)

    # Always worth running: the messages are deletable for 48 hours and leaving has no deadline.
    return TaskKind(EXIT_KIND, run)


def exit_payload(deletions: list[tuple[int, int]], groups: list[int],
                 last: Sequence[tuple[int, str, bool]] = ()) -> dict[str, Any]:
    """`last`: (private chat, rendered text, protected) of each contact's last message."""
    return {"deletions": [[c, m] for c, m in deletions], "leave": groups,
            "last": [[c, text, protect] for c, text, protect in last]}


async def sweep_deletions(rt: Runtime) -> int:
    """Delete the low-profile organisations' messages whose time has come (replies and fan-out
    copies); each row is marked once its messages are handled. One that can no longer be
    deleted (past Telegram's 48 hours: the bot was down when it fell due) is not dropped in
    silence: the organisation's contacts are told, in private, which to delete by hand."""
    now = rt.clock.now()
    async with rt.db.reader() as session:
        replies = await safety.due_deletions(session, now)
        chats = await safety.deleting_chats(session)
        copies = await safety.due_outbox_deletions(session, now, chats)
        late = await safety.missed_deletions(session, now, chats)
    if not replies and not copies and not late[2]:
        return 0
    bot = rt.bot
    missed = list(late[2])
    for _, chat_id, message_id in replies:
        await delete_message(bot, chat_id, message_id)
    for _, chat_id, message_ids in copies:
        for message_id in message_ids:
            await delete_message(bot, chat_id, message_id)
    async with rt.db.transaction() as session:
        await safety.forget_sent(session, [row for row, _, _ in replies] + late[0])
        await safety.mark_outbox_deleted(session, [row for row, _, _ in copies] + late[1], now)
        if missed:
            await outbox.enqueue(session, f"safety.missed:{now.timestamp():.3f}", "safety.missed",
                                 await missed_notices(session, rt, missed), now)
    if missed:
        rt.wake_sender()
        log.info("safety.deletions_missed messages=%d", len(missed))
    done = len(replies) + sum(len(ids) for _, _, ids in copies)
    log.info("safety.deleted messages=%d", done)
    return done


def message_link(chat_id: int, message_id: int) -> str | None:
    """A link to a message in a supergroup (its members can open it); basic groups and private
    chats have none."""
    text = str(chat_id)
    return f"https://t.me/c/{text[4:]}/{message_id}" if text.startswith("-100") else None


async def missed_notices(session: Any, rt: Runtime,
                         missed: list[safety.Missed]) -> list[outbox.Outgoing]:
    """One private message per contact to tell: which messages, when sent, where (a link
    when Telegram has one). Protected, as everything in a low-profile organisation's chats."""
    tell = await safety.contacts_to_tell(session, {m.chat_id for m in missed})
    by_person: dict[int, tuple[str | None, list[safety.Missed]]] = {}
    for item in missed:
        for person, lang in tell.get(item.chat_id, []):
            by_person.setdefault(person, (lang, []))[1].append(item)
    settings = rt.settings
    notices = []
    for person, (lang, items) in sorted(by_person.items()):
        choice = lang or settings.default_language

        def build(t: i18n.Text, person: int = person, items: list[safety.Missed] = items) -> str:
            lines = [t.tr_plural(
                "🗑 I could not delete {n} of my messages in your organisation's chats: its "
                "deletion fell due when it was older than 48 hours (the bot was stopped), and "
                "Telegram lets a bot delete only newer ones. Please delete it by hand:",
                "🗑 I could not delete {n} of my messages in your organisation's chats: their "
                "deletion fell due when they were older than 48 hours (the bot was stopped), and "
                "Telegram lets a bot delete only newer ones. Please delete them by hand:",
                len(items))]
            for item in sorted(items, key=lambda m: (m.chat_id, m.message_id))[:30]:
                when = t.moment(item.sent_at)
                link = message_link(item.chat_id, item.message_id)
                if item.chat_id == person:
                    lines.append(t.tr("• here, in this chat: the message of {date}", date=when))
                elif link:
                    lines.append(t.tr("• in a member group: the message of {date}, {link}",
                                      date=when, link=link))
                else:
                    lines.append(t.tr("• in a member group: the message of {date}", date=when))
            if len(items) > 30:
                lines.append(t.tr("…and {n} more", n=t.number(len(items) - 30)))
            lines.append(t.tr("To clear a whole chat, use “Clear history” in its menu."))
            return "\n".join(lines)

        notices.append(outbox.Outgoing(person, text=i18n.render(choice, settings.timezone, build),
                                       protect_content=True))
    return notices

"""A poll's scheduled work (rule S): tracing copies, the nudge, and the close with results.

- `polls.trace` (every 2 s while copies are on their way): Telegram's `poll_answer` names only
  the poll, and the sender keeps only each copy's message id, so each copy sent gets an
  "about this poll" button by `editMessageReplyMarkup`, whose answer carries the message's poll
  and so its id. Votes kept before their copy was traced are attributed then.
- `polls.nudge` (a day before the close; useless once closed): organisations that have not voted
  get one reminder in their chats.
- `polls.close` (always runs, also late, e.g. after the bot was down): `stopPoll` on every copy
  still open ("already closed" is done, and its answer traces a copy not traced yet), the count,
  then the results and the chart to every chat that got the poll and to the coordinators.
"""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram import Poll as TgPoll
from telegram.error import BadRequest, TelegramError

from bot import i18n
from bot.db.states import PollStatus
from bot.delivery import outbox
from bot.runtime import Runtime
from bot.scheduler import Due, TaskKind, schedule
from bot.services.membership import members_view
from bot.services.polls import closing, polls
from bot.services.safety import safety
from handlers.polls import render
from handlers.polls.polls import TRACE_EVERY, PollInfo
from handlers.shared.callback_data import encode

log = logging.getLogger(__name__)


def task_kinds(rt: Runtime) -> list[TaskKind]:
    return [trace_kind(rt), nudge_kind(rt), close_kind(rt)]


def _info_markup(lang: str, poll_id: int, variant: int = 0) -> InlineKeyboardMarkup:
    label = i18n.label(lang, lambda t: t.tr("About this poll"))
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        ("ℹ️ " if variant == 0 else "ℹ ") + label, callback_data=encode(PollInfo(poll_id)))]])


def trace_kind(rt: Runtime) -> TaskKind:
    async def run(due: Due) -> None:
        poll_id = int(due.payload["poll"])
        async with rt.db.transaction() as session:
            poll = await polls.get(session, poll_id)
            if poll is None or poll.status != PollStatus.OPEN:
                return
            found, waiting = await polls.untraced(session, poll)
            chats = {a.chat_id: a for a in await polls.audience_chats(session, poll_id)}
        bot = rt.bot
        for item in found:
            lang = getattr(chats.get(item.chat_id), "language", None) \
                or rt.settings.default_language
            tg_poll_id = None
            for variant in (0, 1):  # a re-run whose first edit landed gets "not modified"
                try:
                    edited = await bot.edit_message_reply_markup(
                        chat_id=item.chat_id, message_id=item.message_id,
                        reply_markup=_info_markup(lang, poll_id, variant))
                except BadRequest as exc:
                    if "not modified" in exc.message.lower() and variant == 0:
                        continue
                    log.info("polls.trace_failed poll=%d", poll_id)
                    break
                except TelegramError:
                    log.info("polls.trace_failed poll=%d", poll_id)
                    break
                if isinstance(edited, Message) and edited.poll is not None:
                    tg_poll_id = edited.poll.id
                break
            async with rt.db.transaction() as session:
                await polls.trace(session, item.copy_id, item.message_id, tg_poll_id)
        more = len(found) >= polls.TRACE_BATCH  # copies sent and still untraced: go on now
        if (waiting or more) and due.now < poll.closes_at:
            nxt = rt.clock.now() + (timedelta() if more else TRACE_EVERY)
            async with rt.db.transaction() as session:
                await schedule(session, polls.TRACE_KIND, nxt, {"poll": poll_id})
        log.info("polls.traced poll=%d copies=%d waiting=%d", poll_id, len(found), waiting)

    return TaskKind(polls.TRACE_KIND, run)


def nudge_kind(rt: Runtime) -> TaskKind:
    async def run(due: Due) -> None:
        poll_id = int(due.payload["poll"])
        now = rt.clock.now()
        async with rt.db.transaction() as session:
            poll = await polls.get(session, poll_id)
            if poll is None or poll.status != PollStatus.OPEN or now >= poll.closes_at:
                return
            voted = await polls.orgs_voted(session, poll_id)
            messages = []
            for chat in await polls.audience_chats(session, poll_id):
                if chat.org_id is None or chat.org_id in voted:
                    continue
                text = i18n.render(chat.language or rt.settings.default_language,
                                   chat.timezone or rt.settings.timezone,
                                   lambda t: render.nudge_text(t, poll))
                messages.append(outbox.Outgoing(chat.chat_id, text=text))
            await outbox.enqueue(session, f"poll-nudge:{poll_id}", "poll-nudge", messages, now)
        rt.wake_sender()
        log.info("polls.nudged poll=%d chats=%d", poll_id, len(messages))

    def still_useful(due: Due) -> bool:
        closes = due.payload.get("closes")
        return closes is None or due.now < datetime.fromisoformat(closes)

    return TaskKind(polls.NUDGE_KIND, run, still_useful)


async def stop_copies(rt: Runtime, poll_id: int) -> None:
    """`stopPoll` on every copy sent; a copy Telegram already closed counts as done, and the
    answer of one not traced yet names its poll id, so its votes are attributed before counting."""
    async with rt.db.transaction() as session:
        poll = await polls.get(session, poll_id)
        if poll is None or poll.kind == "ranked" or poll.fanout_id is None:
            return
        sent = await outbox.message_ids(session, poll.fanout_id)
        copies = {c.chat_id: c for c in await polls.copies_of(session, poll_id)}
    bot = rt.bot
    for chat_id, ids in sent.items():
        copy = copies.get(chat_id)
        if copy is None or not ids:
            continue
        try:
            stopped: Any = await bot.stop_poll(chat_id, ids[-1])
        except BadRequest as exc:
            if "already been closed" not in exc.message.lower():
                log.info("polls.stop_failed poll=%d", poll_id)
            continue
        except TelegramError:
            log.info("polls.stop_failed poll=%d", poll_id)
            continue
        if copy.tg_poll_id is None and isinstance(stopped, TgPoll):
            async with rt.db.transaction() as session:
                await polls.trace(session, copy.id, ids[-1], stopped.id)


def close_kind(rt: Runtime) -> TaskKind:
    settings = rt.settings

    async def run(due: Due) -> None:
        poll_id = int(due.payload["poll"])
        async with rt.db.transaction() as session:
            poll = await polls.get(session, poll_id)
            if poll is None or poll.status != PollStatus.OPEN:
                return
        await stop_copies(rt, poll_id)
        now = rt.clock.now()
        async with rt.db.transaction() as session:
            closed = await closing.close_and_count(session, poll_id, now)
            if closed is None:
                return
            poll, result = closed
            texts, photos = [], []
            charts: dict[str, str] = {}
            chats = await polls.audience_chats(session, poll_id)
            # Low-profile organisations' chats get the results protected, as every message
            # there; their copies are deleted on the organisation's schedule (outbox rows).
            protect = set(await safety.protected_chats(session, [c.chat_id for c in chats]))

            def add(chat_id: int, lang: str, timezone: str, coordinator: bool,
                    areas: list[str] | None, scope: str | None) -> None:
                texts.append(outbox.Outgoing(chat_id, text=i18n.render(
                    lang, timezone, lambda t: render.results_text(
                        t, poll, result, coordinator_view=coordinator, areas=areas,
                        scope=scope)), protect_content=chat_id in protect))
                first = "es" if lang == "both" else lang
                if first not in charts:
                    png = render.chart_for(i18n.Text(first), poll, result).png
                    charts[first] = base64.b64encode(png).decode()
                photos.append(outbox.Outgoing(
                    chat_id, photo={"content_b64": charts[first]},
                    caption=render.chart_caption(i18n.Text(first, timezone), poll),
                    protect_content=chat_id in protect))

            coordinators = await members_view.coordination_recipients(
                session, settings.coordinator_ids, settings.coordination_chat_id)
            told = set()
            for recipient in coordinators:
                lang = recipient.language or settings.default_language
                add(recipient.chat_id, lang, settings.timezone, True, None, None)
                told.add(recipient.chat_id)
            for chat in chats:
                if chat.chat_id in told:
                    continue
                add(chat.chat_id, chat.language or settings.default_language,
                    chat.timezone or settings.timezone, False, chat.areas, chat.scope)
            await outbox.enqueue(session, f"poll-results:{poll_id}", "poll-results", texts, now)
            await outbox.enqueue(session, f"poll-chart:{poll_id}", "poll-chart", photos, now)
        rt.wake_sender()
        log.info("polls.closed poll=%d late_s=%d", poll_id, int(due.lateness.total_seconds()))

    # A close found late still runs (rule S): the results are owed whatever the delay.
    return TaskKind(polls.CLOSE_KIND, run)

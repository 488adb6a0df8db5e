"""The sender: the one part that sends what fans out, and records each row's answer (rule D).

It claims outbox rows just in time (as many as it has free workers), so a crash leaves at most
`concurrency` rows in `sending`; those are sent again and counted as possibly duplicated. Workers
send through the application's bot, whose rate limiter is the pacer: the fan-out and the replies
share one budget. Every write is a group commit (one transaction for whatever the workers handed
over): a row's answer is committed with its worker's next mark, one commit a delivery, and a
multi-part text records each part before the next.

Telegram's answers: RetryAfter is handled by the pacer (wait, no attempt spent); ChatMigrated moves
the chat everywhere and retries at once; Forbidden and "chat not found" mark the row unreachable
(and the chat inactive, the person unreachable); other BadRequests fail the row with Telegram's
reason; time-outs and network errors retry with backoff, and count a lost answer (both may come
after Telegram applied the send).

Several instances: only the holder of the `sender` lease sends, so they never add up past
Telegram's limits.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, TimedOut
from telegram.ext import Application

from bot.clock import Clock
from bot.db.engine import Database
from bot.db.models import OutboxRow
from bot.db.states import OutboxState
from bot.delivery import edits
from bot.delivery.hooks import ChatHooks
from bot.delivery.split import split_html
from bot.liveness import Liveness

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
LEASE = "sender"
RENEW_EVERY_S = 2.0
GONE = ("chat not found", "user not found", "peer_id_invalid", "group chat was deactivated")


_TABLE = OutboxRow.__table__
_UPDATE = _TABLE.update().where(_TABLE.c.id == bindparam("rid"))


@dataclass
class Claimed:
    id: int
    chat_id: int
    payload: dict[str, Any]
    attempts: int
    lost_answers: int
    parts_sent: int
    message_ids: list[int]


class Sender:
    def __init__(self, application: Application, db: Database, clock: Clock,  # type: ignore[type-arg]
                 liveness: Liveness, concurrency: int = 8, on_progress: Any = None,
                 *, chats: ChatHooks) -> None:
        self.application = application
        self.chats = chats
        self.liveness = liveness
        instance = liveness.instance
        self.db = db
        self.clock = clock
        self.instance = instance
        self.concurrency = concurrency
        self.on_progress = on_progress
        self._wake = asyncio.Event()
        self._workers: set[asyncio.Task[None]] = set()
        self._queue: asyncio.Queue[Claimed | None] = asyncio.Queue()
        self._queued_ids: set[int] = set()
        self._busy = 0
        self._task: asyncio.Task[None] | None = None
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._to_write = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self.holding = False
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name="sender-writer")
        self._task = asyncio.create_task(self._run(), name="sender")

    async def stop(self) -> None:
        """Stop claiming, let the sends in flight finish and record them, release the lease."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        while not self._queue.empty():  # rows fed but not started stay queued in the database
            row = self._queue.get_nowait()
            if row is not None:
                self._queued_ids.discard(row.id)
        for _ in range(len(self._workers)):
            self._queue.put_nowait(None)
        if self._workers:
            await asyncio.wait(self._workers, timeout=10)
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        await self._flush()
        if self.holding:
            await self.liveness.release(LEASE)
            self.holding = False

    # -- the loop ------------------------------------------------------------------------------
    async def _run(self) -> None:
        """Hold the lease, keep the workers fed with due rows, report progress."""
        renew_at = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                if loop.time() >= renew_at:
                    self.holding = await self.liveness.hold(LEASE)
                    renew_at = loop.time() + RENEW_EVERY_S
                if not self.holding:
                    await self._sleep(1.0)
                    continue
                while len(self._workers) < self.concurrency:
                    task = asyncio.create_task(self._work(), name="sender-worker")
                    self._workers.add(task)
                    task.add_done_callback(self._workers.discard)
                fed = 0
                if self._queue.qsize() < self.concurrency:
                    fed = await self._feed(2 * self.concurrency - self._queue.qsize())
                if self.on_progress is not None:
                    await self.on_progress()
                if not fed:
                    await self._sleep(0.5 if self._busy else 1.0)
                else:
                    await self._sleep(0.05)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sender.loop_failed")
                await asyncio.sleep(1.0)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _feed(self, limit: int) -> int:
        """Queue due rows for the workers: a read, no write (only the lease holder sends)."""
        if limit <= 0:
            return 0
        now = self.clock.now()
        columns = (OutboxRow.id, OutboxRow.chat_id, OutboxRow.payload, OutboxRow.attempts,
                   OutboxRow.lost_answers, OutboxRow.parts_sent, OutboxRow.message_ids)
        rows: list[Any] = []
        # Two queries the (state, next_attempt_at) index serves in order: first never sent,
        # then retries that are due (one OR would sort every due row each time). Each reads in
        # a snapshot of its own, taken after `_queued_ids` is read: a row leaves that set only
        # after its worker's mark is committed, so a fresh snapshot sees it claimed. (One
        # SQLite read transaction for both let the second query see a row unclaimed after its
        # worker had sent it and left the set: sent twice, with no answer lost.)
        for waiting in (OutboxRow.state == OutboxState.QUEUED,
                        (OutboxRow.state == OutboxState.SENDING) & OutboxRow.claimed_by.is_(None)):
            if len(rows) >= limit:
                break
            async with self.db.reader() as session:
                rows += (await session.execute(
                    select(*columns)
                    .where(waiting, OutboxRow.next_attempt_at <= now,
                           OutboxRow.id.not_in(self._queued_ids or {0}))
                    .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
                    .limit(limit - len(rows)))).all()
        for r in rows:
            self._queued_ids.add(r[0])
            self._queue.put_nowait(
                Claimed(r[0], int(r[1]), dict(r[2]), r[3], r[4], r[5], list(r[6] or [])))
        return len(rows)

    async def _work(self) -> None:
        """One worker: mark the row as being sent (committed), send it, record the answer.

        The mark is committed before the send, so after a crash the rows marked without an
        answer are exactly the sends that were in flight. A row's answer is not waited for on
        its own: it goes to the writer, and the worker's next mark waits for the commit that
        holds both (one group commit a delivery instead of two). So each worker has at most one
        row in `sending` without a committed answer — the one it sends, or the one just answered
        while its next is not yet marked — and a crash duplicates at most `concurrency` sends.
        """
        answer: asyncio.Future[None] | None = None  # the last row's answer, not yet committed
        while True:
            try:
                row = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                if answer is not None:  # nothing to mark with it: commit the answer alone
                    await answer
                    answer = None
                row = await self._queue.get()
            if row is None:
                if answer is not None:
                    await answer
                return
            self._busy += 1
            try:
                await self._record(self._values(row, OutboxState.SENDING, None, row.message_ids,
                                                 claimed_by=self.instance))
                answer = None  # committed with the mark (or before it)
                answer = await self._deliver(row)
            finally:
                self._busy -= 1
                self._queued_ids.discard(row.id)
                self._wake.set()

    # -- one row -------------------------------------------------------------------------------
    async def _deliver(self, row: Claimed) -> asyncio.Future[None] | None:
        """Send the row's parts; return the future of its answer's commit (None: committed)."""
        try:
            return await self._deliver_parts(row)
        except Exception as exc:  # a bug must not lose the row: retry it later
            log.exception("sender.deliver_failed row=%d", row.id)
            await self._retry(row, type(exc).__name__, lost=False)
            return None

    async def _deliver_parts(self, row: Claimed) -> asyncio.Future[None] | None:
        requests = plan(row.payload)
        ids = list(row.message_ids)
        index = row.parts_sent
        while index < len(requests):
            method, kwargs = requests[index]
            try:
                message_id = await self._send(method, row.chat_id, kwargs)
            except ChatMigrated as exc:
                await self._migrated(row.chat_id, int(exc.new_chat_id))
                row.chat_id = int(exc.new_chat_id)
                continue
            except Forbidden as exc:
                await self._unreachable(row, exc.message, ids)
                return None
            except BadRequest as exc:
                if any(text in exc.message.lower() for text in GONE):
                    await self._unreachable(row, exc.message, ids)
                else:
                    await self._final(row, OutboxState.FAILED, exc.message, ids)
                return None
            except TimedOut:
                await self._retry(row, "timed out", lost=True, ids=ids, parts_sent=index)
                return None
            except NetworkError as exc:  # a connection dropped after the request went out
                # may have been applied (rule D: network errors count as possibly duplicated)
                await self._retry(row, exc.message, lost=True, ids=ids, parts_sent=index)
                return None
            if message_id:  # an edit's deleted or stale part keeps no id (bot/delivery/edits.py)
                ids.append(message_id)
            index += 1
            if index < len(requests):  # a part landed: record it before the next one
                await self._write([self._values(row, OutboxState.SENDING, None, ids,
                                                parts_sent=index, claimed_by=self.instance)])
        return self._submit(self._values(row, OutboxState.SENT, None, ids, parts_sent=len(ids)))

    async def _send(self, method: str, chat_id: int, kwargs: dict[str, Any]) -> int:
        """Send one part; return Telegram's message id.

        A text goes through `Bot._post` (PTB's own path, with the rate limiter and its error
        mapping) and keeps the answer as JSON: building a PTB `Message` from every answer cost
        about a sixth of the bot's CPU per send, and the outbox needs only its message id.
        """
        bot = self.application.bot
        if method in edits.METHODS:  # corrections: edit or delete an earlier copy's parts
            return await edits.run(bot, method, chat_id, kwargs)
        if method == "sendMessage":
            result = await bot._post(method, {"chat_id": chat_id, **kwargs})
            return int(result["message_id"])
        if method == "sendPoll":
            return (await bot.send_poll(chat_id, **kwargs)).message_id
        if method == "sendDocument":
            return (await bot.send_document(chat_id, **kwargs)).message_id
        if method == "sendPhoto":
            return (await bot.send_photo(chat_id, **kwargs)).message_id
        raise ValueError(method)

    async def _migrated(self, old: int, new: int) -> None:
        async with self.db.transaction() as session:
            await self.chats.migrate(session, old, new, self.clock.now())
        log.info("sender.chat_migrated")

    async def _unreachable(self, row: Claimed, reason: str, ids: list[int]) -> None:
        async with self.db.transaction() as session:
            await self.chats.unreachable(session, row.chat_id, self.clock.now())
        await self._final(row, OutboxState.UNREACHABLE, reason, ids)

    # -- recording answers ---------------------------------------------------------------------
    def _values(self, row: Claimed, state: OutboxState, reason: str | None, ids: list[int],
                **extra: Any) -> dict[str, Any]:
        now = self.clock.now()
        values = {"rid": row.id, "state": state, "reason": reason[:200] if reason else None,
                  "message_ids": ids, "chat_id": row.chat_id, "attempts": row.attempts,
                  "lost_answers": row.lost_answers, "parts_sent": row.parts_sent,
                  "claimed_by": None, "next_attempt_at": now, "updated_at": now}
        values.update(extra)
        return values

    def _submit(self, values: dict[str, Any]) -> asyncio.Future[None]:
        """Hand a row's new values to the writer; the future is done once they are committed.

        The writer commits whatever is waiting in one transaction (group commit), in the order
        it was handed over.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((values, done))
        self._to_write.set()
        return done

    async def _record(self, values: dict[str, Any]) -> None:
        """Hand the values to the writer and wait until they are committed."""
        await self._submit(values)

    async def _write_loop(self) -> None:
        while True:
            await self._to_write.wait()
            self._to_write.clear()
            await self._flush()

    async def _final(self, row: Claimed, state: OutboxState, reason: str | None,
                     ids: list[int]) -> None:
        await self._record(self._values(row, state, reason, ids, parts_sent=len(ids)))

    async def _retry(self, row: Claimed, reason: str, lost: bool,
                     ids: list[int] | None = None, parts_sent: int | None = None) -> None:
        row.attempts += 1
        row.lost_answers += 1 if lost else 0
        ids = ids if ids is not None else row.message_ids
        parts = parts_sent if parts_sent is not None else row.parts_sent
        if row.attempts >= MAX_ATTEMPTS:
            await self._record(self._values(
                row, OutboxState.FAILED, f"gave up after {row.attempts} attempts: {reason}", ids,
                parts_sent=parts))
            return
        delay = timedelta(seconds=min(2 ** row.attempts, 60))
        await self._record(self._values(row, OutboxState.SENDING, reason, ids, parts_sent=parts,
                                        next_attempt_at=self.clock.now() + delay))
        log.info("sender.retry row=%d attempt=%d lost=%s", row.id, row.attempts, lost)

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        await self._write([values for values, _ in batch])
        for _, done in batch:
            if not done.done():
                done.set_result(None)

    async def _write(self, values: list[dict[str, Any]]) -> None:
        """Record rows in one executemany on a Core connection (no ORM session); retried until
        the database takes them."""
        delay = 0.2
        while True:
            try:
                async with self.db.engine.begin() as connection:
                    await connection.execute(_UPDATE, values)
                return
            except Exception:
                log.warning("sender.write_failed rows=%d", len(values), exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5)

    async def take_back(self, dead: set[str]) -> int:
        """Rows claimed by an instance that died go back to the queue, possibly duplicated."""
        if not dead:
            return 0
        async with self.db.transaction() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(OutboxRow.state == OutboxState.SENDING, OutboxRow.claimed_by.in_(dead))
                .values(claimed_by=None, lost_answers=OutboxRow.lost_answers + 1))
        if result.rowcount:
            log.info("sender.rows_taken_back count=%d", result.rowcount)
            self.wake()
        return result.rowcount or 0


def plan(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The Bot API requests one outbox row makes: a text may be several parts."""
    common: dict[str, Any] = {}
    if payload.get("protect_content"):
        common["protect_content"] = True
    markup = None
    if payload.get("buttons"):
        markup = InlineKeyboardMarkup.de_json({"inline_keyboard": payload["buttons"]}, None)
    if payload.get("edit"):  # a correction of an earlier copy (bot/delivery/edits.py)
        return edits.plan(payload, markup)
    if payload.get("poll"):
        return [("sendPoll", {**payload["poll"], **common, "reply_markup": markup})]
    for kind, method in (("document", "sendDocument"), ("photo", "sendPhoto")):
        media = payload.get(kind)
        if media:
            content = media.get("file_id") or base64.b64decode(media["content_b64"])
            kwargs: dict[str, Any] = {kind: content, **common, "reply_markup": markup}
            if kind == "document" and media.get("filename"):
                kwargs["filename"] = media["filename"]
            if payload.get("caption"):
                kwargs.update(caption=payload["caption"], parse_mode=ParseMode.HTML)
            return [(method, kwargs)]
    parts = split_html(payload.get("text") or "")
    # LinkPreviewOptions as the dict PTB would make of it (its to_dict cost ~20 us a send)
    preview = {"is_disabled": bool(payload.get("disable_preview", True))}
    requests = []
    for number, part in enumerate(parts):
        last = number == len(parts) - 1
        requests.append(("sendMessage", {
            "text": part, "parse_mode": ParseMode.HTML, "link_preview_options": preview,
            "reply_markup": markup if last else None, **common}))
    return requests

"""Long polling that confirms an update to Telegram only after it is saved (rule U).

PTB's own Updater moves the `getUpdates` offset before the handlers have run, so a crash between
the two loses updates. Here the offset moves past an update only once its row is committed: a crash
at any point makes Telegram send it again, and the insert ignores what was already saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.clock import Clock
from bot.db.engine import Database
from bot.intake import store

log = logging.getLogger(__name__)

# Every update kind the handlers use; Telegram remembers the last list it was given. Not `poll`:
# it comes on every vote in the bot's polls with counts but no voter, and a close race of
# thousands of votes would save and dispatch each twice (votes come as `poll_answer`).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "chat_member",
                   "poll_answer"]


class Poller:
    def __init__(self, application: Application, db: Database, clock: Clock, on_saved: object,
                 timeout: int = 30) -> None:
        self.application = application
        self.db = db
        self.clock = clock
        self.on_saved = on_saved
        self.timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self.fatal: BaseException | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def wait(self) -> None:
        """Return when polling ends for good (an invalid token), re-raising why."""
        if self._task is not None:
            await self._task
        if self.fatal is not None:
            raise self.fatal

    async def _run(self) -> None:
        bot = self.application.bot
        offset: int | None = None
        backoff = 1.0
        while True:
            try:
                updates: tuple[Update, ...] = await bot.get_updates(
                    offset=offset, timeout=self.timeout, allowed_updates=ALLOWED_UPDATES,
                    read_timeout=self.timeout + 10,
                )
                backoff = 1.0
            except InvalidToken as exc:
                log.error("intake.invalid_token")
                self.fatal = exc
                return
            except Conflict:
                log.warning("intake.conflict another instance is polling or a webhook is set")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30)
                continue
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except TimedOut:
                continue
            except NetworkError:
                log.warning("intake.network_error")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30)
                continue
            if not updates:
                continue
            await self._save(updates)
            offset = updates[-1].update_id + 1
            self.on_saved()  # type: ignore[operator]

    async def _save(self, updates: tuple[Update, ...]) -> None:
        """Save until it works: the offset must not move past unsaved updates."""
        raw = [_as_sent(u) for u in updates]
        delay = 0.5
        while True:
            try:
                await store.save(self.db, raw, self.clock.now())
                return
            except Exception:
                log.warning("intake.save_failed retrying count=%d", len(raw), exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)


def _as_sent(update: Update) -> dict[str, object]:
    """The update as Telegram sent it. PTB's `to_dict` leaves out empty lists, but a retracted
    vote's `poll_answer` has `option_ids: []` (and `option_persistent_ids: []`), which PTB
    requires when reading it back."""
    data = update.to_dict()
    answer = data.get("poll_answer")
    if isinstance(answer, dict):
        answer.setdefault("option_ids", [])
        answer.setdefault("option_persistent_ids", [])
    return data


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]

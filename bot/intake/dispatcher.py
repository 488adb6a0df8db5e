"""Handles saved updates: claims them from the database and runs PTB's handlers on each.

Intake (polling or webhook) only saves and calls `wake()`. The dispatcher claims updates lane by
lane (store.claim), runs each through `Application.process_update` (the handlers, the error
handler), then marks it done. Up to `concurrency` lanes run at once; a crash leaves at most that
many updates in 'handling', which are the only ones that may run twice (rule U).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Update
from telegram.ext import Application

from bot.clock import Clock
from bot.db.engine import Database
from bot.intake import store

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, application: Application, db: Database, clock: Clock, instance: str,
                 concurrency: int = 8) -> None:
        self.application = application
        self.db = db
        self.clock = clock
        self.instance = instance
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self.idle = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="dispatcher")

    async def take_back(self, dead: set[str]) -> None:
        """Hand back updates claimed by instances that died."""
        taken = await store.take_back_claims(self.db, dead)
        if taken:
            log.info("intake.claims_taken_back count=%d", taken)
            self.wake()

    async def stop(self) -> None:
        """Stop claiming, and let updates being handled finish (they are marked done)."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._loop_task), timeout=5)
            except TimeoutError:
                self._loop_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._loop_task
        if self._running:
            await asyncio.wait(self._running, timeout=10)

    async def _loop(self) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                free = self.concurrency - len(self._running)
                claimed = await store.claim(self.db, self.instance, free, self.clock.now())
                backoff = 0.5
            except Exception:
                log.exception("intake.claim_failed")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
                continue
            for item in claimed:
                task = asyncio.create_task(self._handle(item), name=f"update-{item.update_id}")
                self._running.add(task)
                task.add_done_callback(self._finished)
            if not claimed or len(self._running) >= self.concurrency:
                if not self._running:
                    self.idle.set()
                self._wake.clear()
                # Re-check now and then for work saved by another instance (webhook, several).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()

    async def _handle(self, item: store.Claimed) -> None:
        self.idle.clear()
        try:
            update = Update.de_json(item.payload, self.application.bot)
            await self.application.process_update(update)
        except Exception:
            # process_update hands handler errors to the error handler; this is a bug around it.
            log.exception("intake.handle_failed update=%d", item.update_id)
        finally:
            await self._mark_done(item.update_id)

    async def _mark_done(self, update_id: int) -> None:
        """Retried until the database takes it. An update left in 'handling' by a live instance
        is never taken back, and it blocks its lane: giving up would stop the chat for good."""
        delay = 0.2
        attempt = 0
        while True:
            try:
                await store.mark_done(self.db, [update_id], self.clock.now())
                return
            except Exception:
                attempt += 1
                log.warning("intake.mark_done_retry update=%d attempt=%d", update_id, attempt)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5)

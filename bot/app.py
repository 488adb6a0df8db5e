"""The application factory and the bot's life: build, start, run, stop.

`BotService` owns the parts of one running instance: the PTB `Application` (handlers, JobQueue),
the intake (long polling that saves before confirming, rule U), the dispatcher that handles saved
updates, and the scheduler's sweeper woken by the JobQueue (rule S). Tests build it in-process
against the emulator; `coalition-bot run` builds the same thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable

from telegram.ext import Application, ApplicationBuilder

import handlers
from bot.clock import Clock, clock_from_settings
from bot.commands import publish_default
from bot.config import Settings
from bot.db.engine import Database, DatabaseReplaced
from bot.db.migrate import upgrade_database
from bot.delivery.hooks import ChatHooks
from bot.delivery.http import AiohttpRequest
from bot.delivery.limiter import PacedRateLimiter
from bot.delivery.pacer import Pacer
from bot.delivery.progress import ProgressReporter
from bot.delivery.sender import Sender
from bot.intake.dispatcher import Dispatcher
from bot.intake.polling import ALLOWED_UPDATES, Poller
from bot.intake.webhook import WebhookServer, stored_secret, webhook_path
from bot.liveness import BEAT_EVERY_S, Liveness
from bot.runtime import KEY, Runtime
from bot.scheduler import Scheduler, TaskKind
from bot.services.shared import chats, health, maintenance
from handlers.digests import digests
from handlers.safety import tasks

log = logging.getLogger(__name__)


def build_application(settings: Settings, pacer: Pacer, requests: list[AiohttpRequest], *,
                      connect_timeout: float = 10,
                      read_timeout: float = 15) -> Application:  # type: ignore[type-arg]
    """The PTB application with our handlers; no Updater (our intake replaces it), the pacer as
    its rate limiter, so replies and fan-out share one budget (bot/delivery/pacer.py), and HTTP on
    aiohttp (bot/delivery/http.py)."""
    requests[:] = [
        AiohttpRequest(connection_pool_size=64, read_timeout=read_timeout,
                       write_timeout=read_timeout, connect_timeout=connect_timeout),
        AiohttpRequest(connection_pool_size=2, read_timeout=settings.poll_timeout + 10,
                       connect_timeout=connect_timeout),
    ]
    application = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.api_file_url)
        .updater(None)
        .rate_limiter(PacedRateLimiter(pacer))
        .request(requests[0])
        .get_updates_request(requests[1])
        .build()
    )
    handlers.register(application)
    return application


class BotService:
    """One running instance of the bot."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None,
                 extra_kinds: Iterable[TaskKind | Callable[[Runtime], TaskKind]] = (),
                 concurrency: int = 8, send_concurrency: int | None = None,
                 read_timeout: float = 15, chat_limits: bool = True) -> None:
        self.settings = settings
        self.clock = clock or clock_from_settings(settings.clock_url)
        self.db = Database(settings.database_url)
        self.instance = uuid.uuid4().hex[:12]
        self.scheduler = Scheduler(self.db, self.clock, self.instance)
        self.scheduler.register(maintenance.purge_kind(self.db, settings.retention_days))
        self.pacer = Pacer(self.clock, settings.send_rate, chat_limits=chat_limits)
        self._requests: list[AiohttpRequest] = []
        self.application = build_application(settings, self.pacer, self._requests,
                                             read_timeout=read_timeout)
        chat_hooks = ChatHooks(migrate=chats.migrate_chat, unreachable=chats.mark_unreachable,
                               settings=chats.chat_settings)
        self.progress = ProgressReporter(self.application, self.db, self.clock,
                                         settings.send_rate, settings.default_language,
                                         settings.timezone, chats=chat_hooks)
        self.liveness = Liveness(self.db, self.instance)
        self.sender = Sender(self.application, self.db, self.clock, self.liveness,
                             concurrency=send_concurrency or settings.send_concurrency,
                             on_progress=self.progress.tick, chats=chat_hooks)
        self.runtime = Runtime(settings, self.db, self.clock, self.scheduler, self.instance,
                               self.application.bot, wake_sender=self.sender.wake)
        for kind in handlers.task_kinds(self.runtime):  # every capability's (one contract)
            self.scheduler.register(kind)
        for kind in extra_kinds:
            self.scheduler.register(kind if isinstance(kind, TaskKind) else kind(self.runtime))
        self.application.bot_data[KEY] = self.runtime
        self.dispatcher = Dispatcher(self.application, self.db, self.clock, self.instance,
                                     concurrency=concurrency)
        self.poller = Poller(self.application, self.db, self.clock, self.dispatcher.wake,
                             timeout=settings.poll_timeout)
        self.webhook: WebhookServer | None = None
        self._started = False
        self._heart: asyncio.Task[None] | None = None
        # One sweep at a time: the regular one and any `sweep_soon` run one after the other.
        self._sweep_lock = asyncio.Lock()
        # A fault that stops the process (the database file replaced); /health reports it.
        self.fatal: str | None = None
        self._fatal_event = asyncio.Event()
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        await upgrade_database(self.db)
        await self.clock.sync()
        await self.application.initialize()
        self.runtime.bot_username = self.application.bot.username or ""
        await self.liveness.start()
        await self._take_back()
        await maintenance.ensure_scheduled(self.db, self.clock.now())
        await digests.ensure_planned(self.runtime)
        await publish_default(self.application.bot, self.settings.default_language)
        await self.application.start()
        assert self.application.job_queue is not None
        self.application.job_queue.run_repeating(
            self._sweep, interval=self.settings.sweep_interval, first=0.1, name="sweeper",
            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )
        await self.sender.start()
        await self.dispatcher.start()
        if self.settings.webhook_url:
            await self._start_webhook(self.settings.webhook_url)
        else:
            await self.poller.start()
        self.liveness.first_start = False
        self._heart = asyncio.create_task(self._heartbeat(), name="heartbeat")
        self._started = True
        log.info("bot.started instance=%s", self.instance)

    async def _start_webhook(self, url: str) -> None:
        """Serve the webhook, then tell Telegram where it is (with the secret it must send)."""
        given = self.settings.webhook_secret
        secret = given.get_secret_value() if given else await stored_secret(self.db)
        self.webhook = WebhookServer(
            self.db, self.clock, self.dispatcher.wake, secret=secret, path=webhook_path(url),
            host=self.settings.webhook_listen, port=self.settings.webhook_port,
            health=self.health)
        await self.webhook.start()
        await self.application.bot.set_webhook(url, secret_token=secret,
                                               allowed_updates=ALLOWED_UPDATES)
        log.info("intake.webhook_set")

    async def health(self) -> tuple[bool, dict[str, object]]:
        """For GET /health: the database's figures and whether this process's sender runs."""
        task = getattr(self.sender, "_task", None)
        sender_alive = task is not None and not task.done()
        if self.fatal is None and self.db.replaced():  # said at once, not a beat later
            log.error("db.replaced")
            self.fatal = "database_replaced"
        if self.fatal is not None:
            return False, {"database": False, "sender_alive": sender_alive,
                           "problems": [self.fatal]}
        try:
            async with self.db.reader() as session:
                found = await health.status(session, self.clock.now())
        except Exception:
            log.warning("health.database_unreachable")
            return False, {"database": False, "sender_alive": sender_alive,
                           "problems": ["database_unreachable"]}
        problems = found.problems + ([] if sender_alive else ["sender_stopped"])
        return not problems, {
            "database": True, "sender_alive": sender_alive, "problems": problems,
            "oldest_queued_s": found.oldest_queued_s, "scheduler_lag_s": found.scheduler_lag_s,
            "oldest_unhandled_update_s": found.oldest_unhandled_update_s,
            "outbox": found.outbox}

    async def _heartbeat(self) -> None:
        """Keep this instance's row fresh, and take back the claims of instances that died.
        A database file deleted or replaced under the running bot is a fault to stop on: /health
        says so for one beat, then `run_until_stopped` ends with DatabaseReplaced."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=BEAT_EVERY_S)
                return
            if self.fatal is not None:
                self._fatal_event.set()
                return
            if self.db.replaced():
                log.error("db.replaced")
                self.fatal = "database_replaced"
                continue
            try:
                await self.liveness.beat()
                await self._take_back()
            except Exception:
                log.warning("liveness.beat_failed", exc_info=True)

    async def _take_back(self) -> None:
        """Claims of instances that died (a SQLite start: of the previous process) go back."""
        dead = await self.liveness.dead_claimers()
        if dead:
            await self.dispatcher.take_back(dead)
            await self.scheduler.take_back(dead)
            await self.sender.take_back(dead)

    def sweep_soon(self) -> None:
        """Sweep now, besides the regular sweeps: the clock jumped (the emulator's, moved by a
        test or a sandbox `/wait`), so work may be due that the next interval would only delay."""
        if self._started and self.application.job_queue is not None:
            self.application.job_queue.run_once(self._sweep, 0, name="sweep-soon")

    async def _sweep(self, _context: object) -> None:
        async with self._sweep_lock:
            try:
                await self.scheduler.sweep()
            except Exception:
                log.exception("scheduler.sweep_failed")
            try:
                await tasks.sweep_deletions(self.runtime)
            except Exception:
                log.exception("safety.deletion_sweep_failed")

    async def stop(self) -> None:
        if self._started:
            self._stopping.set()
            if self._heart is not None:
                await self._heart
            await self.poller.stop()
            if self.webhook is not None:
                await self.webhook.stop()
            await self.dispatcher.stop()
            await self.sender.stop()
            # No sweep is cut in the middle: no new one starts, the running one ends (else the
            # job queue's shutdown cancels it, logged as an ERROR on every stop).
            if self.application.job_queue is not None:
                for job in self.application.job_queue.jobs():
                    job.schedule_removal()
            async with self._sweep_lock:
                pass
            with contextlib.suppress(Exception):
                await self.application.stop()
            with contextlib.suppress(Exception):
                await self.application.shutdown()
            try:
                await self.liveness.stop()
            except Exception:
                log.warning("liveness.stop_failed", exc_info=True)
            self._started = False
        for request in self._requests:  # also when the start failed halfway (a refused token)
            await request.shutdown()
        await self.clock.aclose()
        await self.db.dispose()
        log.info("bot.stopped instance=%s", self.instance)

    async def run_until_stopped(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set or polling ends for good (an invalid token)."""
        await self.start()
        try:
            waiter = asyncio.create_task(stop.wait())
            # In webhook mode the poller never started: its wait returns at once and is ignored.
            poller = asyncio.create_task(self.poller.wait() if self.webhook is None
                                         else stop.wait())
            fatal = asyncio.create_task(self._fatal_event.wait())
            done, _ = await asyncio.wait({waiter, poller, fatal},
                                         return_when=asyncio.FIRST_COMPLETED)
            for task in (waiter, poller, fatal):
                if task not in done:
                    task.cancel()
            if fatal in done:
                raise DatabaseReplaced(self.fatal or "database_replaced")
            if poller in done:
                poller.result()
        finally:
            await self.stop()

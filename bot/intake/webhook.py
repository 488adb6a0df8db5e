"""Webhook mode: Telegram POSTs each update here; it is saved before the 200 (rule U).

Why our own small server instead of PTB's: PTB's webhook handler compares the secret token with
`!=` (a timing leak) and answers 200 once the update is queued in memory, before anything is
saved, so a crash right after the 200 loses it. Here a request is answered 200 only after its
update is committed to `saved_updates`; Telegram's retry of an update already saved is ignored
by the insert. The same server answers `GET /health` for monitoring.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import select

from bot.clock import Clock
from bot.db.engine import Database
from bot.db.models import BotState
from bot.db.upsert import insert_ignore
from bot.intake import store

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
SECRET_KEY = "webhook_secret"  # noqa: S105 - the row name, not a secret
MAX_BODY = 1 << 20  # an update is a few kB; Telegram's largest are far below 1 MB


async def stored_secret(db: Database) -> str:
    """The secret from WEBHOOK_SECRET, else one generated once and kept in the database, so
    every instance and every restart registers the same one."""
    async with db.transaction() as session:
        await session.execute(insert_ignore(session, BotState).values(
            key=SECRET_KEY, value=secrets.token_urlsafe(32)))
        found = (await session.execute(
            select(BotState.value).where(BotState.key == SECRET_KEY))).scalar_one()
    return str(found)


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


class WebhookServer:
    """Receives updates and serves /health; `on_saved` wakes the dispatcher."""

    def __init__(self, db: Database, clock: Clock, on_saved: Callable[[], None], *,
                 secret: str, path: str, host: str, port: int,
                 health: Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]) -> None:
        self.db = db
        self.clock = clock
        self.on_saved = on_saved
        self._secret = secret.encode()
        self.path = path
        self.host = host
        self.port = port
        self.health = health
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._update)
        app.router.add_get("/health", self._health)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
        log.info("intake.webhook_listening port=%s", self.bound_port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _update(self, request: web.Request) -> web.Response:
        # The header's bytes as they came: a client may send any bytes, which do not all
        # decode (a 500 and a traceback before, for what is only a wrong secret).
        name = SECRET_HEADER.lower().encode()
        given = next((v for k, v in request.raw_headers if k.lower() == name), None)
        if given is None:
            log.warning("intake.webhook_refused reason=no_secret")
            return web.Response(status=401)
        if not hmac.compare_digest(given, self._secret):
            log.warning("intake.webhook_refused reason=wrong_secret")
            return web.Response(status=403)
        try:
            update = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.Response(status=400)
        try:
            await store.save(self.db, [update], self.clock.now())
        except Exception:
            # Not saved: a 500 makes Telegram send it again later.
            log.warning("intake.webhook_save_failed", exc_info=True)
            return web.Response(status=500)
        self.on_saved()
        return web.Response(status=200)

    async def _health(self, _request: web.Request) -> web.Response:
        healthy, body = await self.health()
        return web.json_response(body, status=200 if healthy else 503)

"""The driver API over HTTP under ``/control`` (filled in below)."""

from __future__ import annotations

from aiohttp import web


def add_control_routes(app: web.Application) -> None:
    from bot.emulator.server import EMU_KEY

    async def clock(request: web.Request) -> web.Response:
        return web.json_response(request.app[EMU_KEY].clock.as_dict())

    app.router.add_get("/control/clock", clock)

"""Two small proxies the reliability tests run: a TCP proxy in front of PostgreSQL that can cut
every connection (the database unavailable), and a round-robin HTTP proxy in front of two webhook
servers (two instances behind one public URL, as an nginx upstream would be)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import aiohttp
from aiohttp import web


class TcpProxy:
    """127.0.0.1:<port> -> target. `cut()` drops every connection and refuses new ones (accepts
    and closes at once) until `restore()`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.cut_now = False
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._drop_all()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def cut(self) -> None:
        self.cut_now = True
        self.cuts += 1
        self._drop_all()

    def restore(self) -> None:
        self.cut_now = False

    def _drop_all(self) -> None:
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_now:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    if self.cut_now:
                        break
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


class RoundRobinProxy:
    """POSTs to `path` go to the upstreams in turn; one that refuses (connection error, 5xx
    without an answer) is skipped for the next, as an nginx upstream with `proxy_next_upstream
    error` does. Counts what each upstream answered."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self._turn = itertools.cycle(range(len(upstreams)))
        self.served = [0] * len(upstreams)
        self.refused = [0] * len(upstreams)
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self, port: int = 0) -> RoundRobinProxy:
        app = web.Application(client_max_size=1 << 21)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        first = next(self._turn)
        for step in range(len(self.upstreams)):
            index = (first + step) % len(self.upstreams)
            url = self.upstreams[index] + request.path_qs
            try:
                async with self._http.request(request.method, url, data=body,
                                              headers=headers) as answer:
                    content = await answer.read()
                    self.served[index] += 1
                    return web.Response(status=answer.status, body=content)
            except (TimeoutError, aiohttp.ClientError, OSError):
                self.refused[index] += 1
        return web.Response(status=502)

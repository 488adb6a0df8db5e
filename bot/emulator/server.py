"""The aiohttp application: ``/bot<token>/<method>``, ``/file/bot<token>/<path>``, ``/control``.

One handler parses a request the way Telegram reads what PTB sends (query string, form,
multipart with uploads, JSON), checks it strictly (recorded, never refused), injects faults,
runs the method and answers with Telegram's body and real status code. Background tasks close
timed polls as the clock passes their close dates and deliver updates to a webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.emulator.errors import ApiError
from bot.emulator.methods import METHODS, RequestRecord
from bot.emulator.params import coerce
from bot.emulator.spec import InputFileValue

if TYPE_CHECKING:
    from bot.emulator.driver import Emulator

log = logging.getLogger(__name__)

_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
_NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}
_FAULT_BODIES = {
    "500": (500, "Internal Server Error"),
    "502": (502, "Bad Gateway"),
}
EMU_KEY: web.AppKey[Emulator] = web.AppKey("emulator")


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type="application/json",
    )


async def read_params(request: web.Request) -> dict[str, Any]:
    """Every parameter of the request, files wrapped in ``InputFileValue``."""
    params: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return params
    ctype = request.content_type
    if ctype == "multipart/form-data":
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                content = await part.read()
                params[part.name] = make_input_file(
                    part.filename, bytes(content), part.headers.get("Content-Type")
                )
            else:
                params[part.name] = await part.text()
    elif ctype == "application/json":
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON request body") from None
            if isinstance(body, dict):
                params.update(body)
    else:
        form = await request.post()
        for key in form:
            value = form[key]
            params[key] = value if isinstance(value, str) else str(value)
    return params


def make_input_file(filename: str, content: bytes, mime_type: str | None) -> InputFileValue:
    return InputFileValue(content=content, filename=filename, content_type=mime_type)


def _chat_id(params: dict[str, Any]) -> int | None:
    cid = params.get("chat_id")
    if isinstance(cid, int) and not isinstance(cid, bool):
        return cid
    if isinstance(cid, str):
        with contextlib.suppress(ValueError):
            return int(cid)
    return None


async def _drop(request: web.Request, hold: float) -> web.StreamResponse:
    """Hold the request, then close the connection without an answer."""
    await asyncio.sleep(hold)
    if request.transport is not None:
        request.transport.close()
    raise asyncio.CancelledError


async def handle_api(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMU_KEY]
    if request.match_info["token"] != emu.token:
        return _json(_UNAUTHORIZED, 401)
    name = request.match_info["method"]
    canonical = emu.spec.method_name(name)
    if canonical is None:
        return _json(_NOT_FOUND, 404)
    api = emu.api
    clock = emu.clock
    try:
        params = await read_params(request)
    except ApiError as exc:
        return _json(exc.body(), exc.code)
    coerce(canonical, params)
    if emu.strict:
        emu.violations.extend(emu.spec.check(canonical, params))
    chat_id = _chat_id(params)
    faults = emu.faults
    fault = faults.pick(canonical, chat_id) if faults.rules else None
    api.metrics.requests += 1
    record = RequestRecord(canonical, params, 200, None, clock.now(), chat_id)
    emu.requests.append(record)
    if fault is not None and fault != "lost":
        record.status = 0 if fault == "timeout" else int(fault)
        record.error = f"fault {fault}"
        emu.world.changed()
        if fault == "timeout":
            return await _drop(request, faults.hold)
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if fault == "429":
            wait = faults.retry_after
            return _json({"ok": False, "error_code": 429,
                          "description": f"Too Many Requests: retry after {wait}",
                          "parameters": {"retry_after": wait}}, 429)
        status, text = _FAULT_BODIES[fault]
        return _json({"ok": False, "error_code": status, "description": text}, status)
    fn = METHODS.get(canonical.lower())
    try:
        if fn is None:
            result = api.not_emulated_answer(canonical, params)
        else:
            result = fn(api, params)
            if inspect.isawaitable(result):
                result = await result
    except ApiError as exc:
        record.status = exc.code
        record.error = exc.description
        body: dict[str, Any] = exc.body()
        status = exc.code
    else:
        body = {"ok": True, "result": result}
        status = 200
    emu.world.changed()
    if fault == "lost":
        record.error = "fault lost (applied, answer dropped)"
        return await _drop(request, faults.hold)
    try:
        if faults.latency:
            await asyncio.sleep(faults.latency)
        response = _json(body, status)
        await response.prepare(request)
        await response.write_eof()
    except (asyncio.CancelledError, ConnectionResetError) as exc:
        # The client timed out and left after the request was applied (the server cancels a
        # handler whose client is gone): its answer is lost just as an injected "lost" fault's
        # is, and counted, so tests bound extra copies by every lost answer.
        api.metrics.answers_lost += 1
        record.error = "answer lost (the client left first)"
        if isinstance(exc, asyncio.CancelledError):
            raise
        return response  # nobody to answer: not a server error (aiohttp logs those as ERROR)
    return response


async def handle_file(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMU_KEY]
    if request.match_info["token"] != emu.token:
        return _json(_UNAUTHORIZED, 401)
    f = emu.world.files_by_path.get(request.match_info["path"])
    if f is None:
        return _json(_NOT_FOUND, 404)
    return web.Response(body=f.content, content_type=f.mime_type or "application/octet-stream")


def make_app(emu: Emulator) -> web.Application:
    from bot.emulator.control import add_control_routes

    app = web.Application(client_max_size=60 * 1024 * 1024)
    app[EMU_KEY] = emu
    app.router.add_route("*", "/bot{token}/{method}", handle_api)
    app.router.add_get("/file/bot{token}/{path:.+}", handle_file)
    add_control_routes(app)
    return app


async def tick_polls(emu: Emulator) -> None:
    """Close timed polls when the running clock passes their close date (no advance needed)."""
    world = emu.world
    while True:
        due = world.next_due()
        if due is not None and due <= emu.clock.now():
            world.tick()
        wait = 0.5 if due is None else min(0.5, max(0.01, emu.clock.wall_seconds_until(due)))
        await asyncio.sleep(wait)


async def deliver_webhook(emu: Emulator) -> None:
    """Post queued updates to the webhook in order, retrying the same update with backoff."""
    world = emu.world
    delay = emu.webhook_retry_delay
    async with aiohttp.ClientSession() as session:
        while True:
            wh = world.webhook
            if not wh.url or not world.updates:
                await world.wait_changed(1.0)
                continue
            uid, kind, payload = world.updates[0]
            headers = {"Content-Type": "application/json"}
            if wh.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = wh.secret_token
            data = json.dumps({"update_id": uid, kind: payload}, ensure_ascii=False)
            error: str | None = None
            status = 0
            try:
                async with session.post(
                    wh.url,
                    data=data.encode("utf-8"),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=emu.webhook_timeout),
                ) as resp:
                    status = resp.status
                    await resp.read()
                    if not 200 <= resp.status < 300:
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except TimeoutError:
                error = "Read timeout expired"
            except aiohttp.ClientError as exc:
                error = f"Connection failed: {exc.__class__.__name__}"
            emu.webhook_log.append((uid, status, error))
            if error is None:
                if world.updates and world.updates[0][0] == uid:
                    world.updates.popleft()
                delay = emu.webhook_retry_delay
                world.changed()
                continue
            wh.last_error_date = int(emu.clock.now())
            wh.last_error_message = error
            world.changed()
            await asyncio.sleep(delay)
            delay = min(delay * 2, emu.webhook_retry_max)

"""The driver API over HTTP under ``/control``, for a bot or a sandbox in another process.

``POST /control/<verb>`` with a JSON body mirrors the driver call of the same name; users, chats
and messages are named by id (``"user": 6100000001``, ``"chat": -4000000001``,
``"message_id": 3``). ``GET /control/clock`` lets a bot in another process follow the emulated
clock. Driver refusals (pressing a button that is not there...) answer 400 ``{"error": ...}``.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.emulator.errors import DriverError
from bot.emulator.world import ECallbackQuery, EChat, EMessage, EUser

if TYPE_CHECKING:
    from bot.emulator.driver import Emulator

Handler = Callable[["Emulator", dict[str, Any]], Any]
VERBS: dict[str, Handler] = {}


def verb(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        VERBS[name] = fn
        return fn

    return register


# -- serialisation ---------------------------------------------------------------------------
def user_json(u: EUser) -> dict[str, Any]:
    return u.to_api()


def chat_json(c: EChat) -> dict[str, Any]:
    d = c.to_api()
    d.update(
        bot_status=c.bot_status,
        members={str(k): v for k, v in c.members.items()},
        migrated_to=c.migrated_to,
        started=c.started,
        blocked=c.blocked,
    )
    return d


def message_json(m: EMessage) -> dict[str, Any]:
    d: dict[str, Any] = {
        "message_id": m.message_id,
        "chat_id": m.chat_id,
        "from_bot": m.from_bot,
        "sender_id": m.sender_id,
        "date": m.date,
        "text": m.text,
        "html": m.html,
        "parse_mode": m.parse_mode,
        "entities": m.entities,
        "caption": m.caption,
        "caption_html": m.caption_html,
        "buttons": [[dataclasses.asdict(b) for b in row] for row in m.buttons],
        "edit_date": m.edit_date,
        "deleted": m.deleted,
        "protect_content": m.protect_content,
        "reply_to_message_id": m.reply_to_message_id,
        "service": m.service,
        "document": None,
        "photo": None,
        "poll": m.poll.to_api() if m.poll is not None else None,
    }
    if m.document is not None:
        d["document"] = {
            "filename": m.document.filename,
            "mime_type": m.document.mime_type,
            "size": len(m.document.content),
            "file_id": m.document.file_id,
        }
    if m.photo_file is not None:
        d["photo"] = {"file_id": m.photo_file.file_id, "size": m.photo_file.size}
    return d


def callback_json(q: ECallbackQuery) -> dict[str, Any]:
    return dataclasses.asdict(q)


# -- argument helpers ------------------------------------------------------------------------
def _req(body: dict[str, Any], key: str) -> Any:
    if key not in body:
        raise DriverError(f"missing {key!r}")
    return body[key]


def _msg(emu: Emulator, body: dict[str, Any]) -> EMessage:
    return emu.message((int(_req(body, "chat")), int(_req(body, "message_id"))))


def _opt_msg(emu: Emulator, body: dict[str, Any], chat_key: str, key: str) -> EMessage | None:
    if body.get(key) is None:
        return None
    chat_id = body.get(chat_key)
    if chat_id is None:
        chat_id = body["user"]
    return emu.message((int(chat_id), int(body[key])))


def _bytes(body: dict[str, Any]) -> bytes:
    if "content_b64" in body:
        return base64.b64decode(body["content_b64"])
    return str(body.get("content", "")).encode("utf-8")


# -- verbs -----------------------------------------------------------------------------------
@verb("add_user")
def _add_user(emu: Emulator, b: dict[str, Any]) -> Any:
    return user_json(
        emu.add_user(
            _req(b, "first_name"),
            username=b.get("username"),
            language_code=b.get("language_code"),
            user_id=b.get("user_id"),
            last_name=b.get("last_name"),
        )
    )


@verb("add_group")
def _add_group(emu: Emulator, b: dict[str, Any]) -> Any:
    chat = emu.add_group(
        _req(b, "title"),
        members=[emu.user(u) for u in b.get("members", [])],
        admins=[emu.user(u) for u in b.get("admins", [])],
        supergroup=bool(b.get("supergroup", False)),
        username=b.get("username"),
    )
    return chat_json(chat)


POPULATE_MAX = 1_000_000


@verb("populate")
def _populate(emu: Emulator, b: dict[str, Any]) -> Any:
    """An audience in one call, for benchmarks: ``{"private": N, "groups": M, "prefix": "p",
    "supergroup": false, "language_code": null}`` makes N users whose private chat with the bot is
    open (as after /start) and M groups the bot is a member of, all with one admin (made too).
    No updates are queued: the bot learns nothing of them. Answers ``{"private": [ids],
    "groups": [ids], "admin": id or null}``."""
    private, groups = int(b.get("private", 0)), int(b.get("groups", 0))
    if not (0 <= private <= POPULATE_MAX and 0 <= groups <= POPULATE_MAX):
        raise DriverError(f"private and groups must be between 0 and {POPULATE_MAX}")
    prefix = str(b.get("prefix", "p"))
    language = b.get("language_code")
    world = emu.world
    private_ids = []
    for i in range(private):
        chat = world.private_chat(world.add_user(f"{prefix}{i}", language_code=language))
        chat.started = True
        private_ids.append(chat.id)
    group_ids = []
    admin = None
    if groups:
        admin = world.add_user(f"{prefix}-admin", language_code=language)
        supergroup = bool(b.get("supergroup", False))
        for i in range(groups):
            chat = world.add_group(f"{prefix} group {i}", supergroup=supergroup)
            chat.members[admin.id] = "creator"
            chat.bot_status = "member"
            chat.was_member = True
            group_ids.append(chat.id)
    world.changed()
    return {"private": private_ids, "groups": group_ids,
            "admin": admin.id if admin is not None else None}


@verb("add_bot")
def _add_bot(emu: Emulator, b: dict[str, Any]) -> Any:
    msg = emu.add_bot(_req(b, "chat"), by=emu.user(_req(b, "by")), admin=bool(b.get("admin")))
    return message_json(msg)


@verb("promote_bot")
def _promote(emu: Emulator, b: dict[str, Any]) -> Any:
    emu.promote_bot(_req(b, "chat"), by=emu.user(_req(b, "by")))
    return True


@verb("demote_bot")
def _demote(emu: Emulator, b: dict[str, Any]) -> Any:
    emu.demote_bot(_req(b, "chat"), by=emu.user(_req(b, "by")))
    return True


@verb("remove_bot")
def _remove(emu: Emulator, b: dict[str, Any]) -> Any:
    return message_json(emu.remove_bot(_req(b, "chat"), by=emu.user(_req(b, "by"))))


@verb("migrate")
def _migrate(emu: Emulator, b: dict[str, Any]) -> Any:
    by = emu.user(b["by"]) if b.get("by") is not None else None
    return chat_json(emu.migrate(_req(b, "chat"), by=by))


@verb("block")
def _block(emu: Emulator, b: dict[str, Any]) -> Any:
    emu.block(_req(b, "user"))
    return True


@verb("unblock")
def _unblock(emu: Emulator, b: dict[str, Any]) -> Any:
    emu.unblock(_req(b, "user"))
    return True


@verb("join_group")
def _join(emu: Emulator, b: dict[str, Any]) -> Any:
    return message_json(emu.join_group(emu.user(_req(b, "user")), _req(b, "chat")))


@verb("leave_group")
def _leave(emu: Emulator, b: dict[str, Any]) -> Any:
    return message_json(emu.leave_group(emu.user(_req(b, "user")), _req(b, "chat")))


@verb("send")
def _send(emu: Emulator, b: dict[str, Any]) -> Any:
    user = emu.user(_req(b, "user"))
    msg = emu.send(
        user,
        str(_req(b, "text")),
        chat=b.get("chat"),
        reply_to=_opt_msg(emu, b, "chat", "reply_to"),
        anonymous=bool(b.get("anonymous", False)),
    )
    return message_json(msg)


@verb("send_document")
def _send_document(emu: Emulator, b: dict[str, Any]) -> Any:
    msg = emu.send_document(
        emu.user(_req(b, "user")),
        str(_req(b, "filename")),
        _bytes(b),
        chat=b.get("chat"),
        caption=b.get("caption"),
        mime_type=b.get("mime_type", "application/octet-stream"),
    )
    return message_json(msg)


@verb("send_photo")
def _send_photo(emu: Emulator, b: dict[str, Any]) -> Any:
    msg = emu.send_photo(
        emu.user(_req(b, "user")), _bytes(b), chat=b.get("chat"), caption=b.get("caption")
    )
    return message_json(msg)


@verb("edit_message")
def _edit(emu: Emulator, b: dict[str, Any]) -> Any:
    return message_json(emu.edit_message(emu.user(_req(b, "user")), _msg(emu, b), _req(b, "text")))


@verb("delete_message")
def _delete(emu: Emulator, b: dict[str, Any]) -> Any:
    emu.delete_message(_msg(emu, b))
    return True


@verb("press")
def _press(emu: Emulator, b: dict[str, Any]) -> Any:
    q = emu.press(emu.user(_req(b, "user")), _msg(emu, b), label=b.get("label"), data=b.get("data"))
    return callback_json(q)


@verb("forge_callback")
def _forge(emu: Emulator, b: dict[str, Any]) -> Any:
    q = emu.forge_callback(
        emu.user(_req(b, "user")), _req(b, "chat"), int(_req(b, "message_id")), str(b["data"])
    )
    return callback_json(q)


@verb("vote")
def _vote(emu: Emulator, b: dict[str, Any]) -> Any:
    emu.vote(emu.user(_req(b, "user")), _msg(emu, b), list(_req(b, "option_ids")))
    return True


@verb("advance")
def _advance(emu: Emulator, b: dict[str, Any]) -> Any:
    emu.clock.advance(float(_req(b, "seconds")))
    return emu.clock.as_dict()


@verb("clock")
def _clock(emu: Emulator, b: dict[str, Any]) -> Any:
    if "scale" in b:
        emu.clock.scale = float(b["scale"])
    if "advance" in b:
        emu.clock.advance(float(b["advance"]))
    return emu.clock.as_dict()


@verb("faults")
def _faults(emu: Emulator, b: dict[str, Any]) -> Any:
    """``{"clear": true, "add": [{"kind": "500", ...}], "latency": 0.1, "hold": 2,
    "forbid_chats": [id], "allow_chats": [id]}``, applied in that order."""
    f = emu.faults
    if b.get("clear"):
        f.clear()
    for rule in b.get("add", []):
        f.add(
            str(rule["kind"]),
            rate=float(rule.get("rate", 1.0)),
            methods=rule.get("methods"),
            chats=rule.get("chats"),
            count=rule.get("count"),
            seed=rule.get("seed"),
        )
    if "latency" in b:
        f.latency = float(b["latency"])
    if "hold" in b:
        f.hold = float(b["hold"])
    for cid in b.get("forbid_chats", []):
        f.forbid_chat(int(cid))
    for cid in b.get("allow_chats", []):
        f.allow_chat(int(cid))
    return f.as_dict()


@verb("settings")
def _settings(emu: Emulator, b: dict[str, Any]) -> Any:
    """Switches: ``rate_limits``, ``chat_limits``, ``privacy_mode``, ``strict``,
    ``webhook_timeout``."""
    if "rate_limits" in b:
        emu.rate_limits = bool(b["rate_limits"])
    if "chat_limits" in b:
        emu.chat_limits = bool(b["chat_limits"])
    if "privacy_mode" in b:
        emu.privacy_mode = bool(b["privacy_mode"])
    if "strict" in b:
        emu.strict = bool(b["strict"])
    if "webhook_timeout" in b:
        emu.webhook_timeout = float(b["webhook_timeout"])
    return {
        "rate_limits": emu.rate_limits,
        "chat_limits": emu.chat_limits,
        "privacy_mode": emu.privacy_mode,
        "strict": emu.strict,
        "webhook_timeout": emu.webhook_timeout,
    }


async def _wait_bot_message(emu: Emulator, b: dict[str, Any]) -> Any:
    chat = emu.chat(_req(b, "chat"))
    after = _opt_msg(emu, b, "chat", "after")
    msg = await emu.wait_for_bot_message(chat, timeout=float(b.get("timeout", 10)), after=after)
    return message_json(msg)


# -- reading ---------------------------------------------------------------------------------
def _reads(emu: Emulator, what: str, arg: str | None) -> Any:
    if what == "clock":
        return emu.clock.as_dict()
    if what == "transcript" and arg is not None:
        return [message_json(m) for m in emu.transcript(int(arg))]
    if what == "bot_messages" and arg is not None:
        return [message_json(m) for m in emu.bot_messages(int(arg))]
    if what == "requests":
        return [
            {
                "method": r.method,
                "status": r.status,
                "error": r.error,
                "at": r.at,
                "chat_id": r.chat_id,
            }
            for r in emu.requests
        ]
    if what == "violations":
        return [dataclasses.asdict(v) for v in emu.violations]
    if what == "metrics":
        return emu.metrics()
    if what == "not_emulated":
        return list(emu.not_emulated)
    if what == "callbacks":
        return {
            "unanswered": [callback_json(q) for q in emu.unanswered_callbacks()],
            "answers": [list(a) for a in emu.callback_answers],
        }
    if what == "users":
        return [user_json(u) for u in emu.world.users.values()]
    if what == "chats":
        return [chat_json(c) for c in emu.world.chats.values()]
    if what == "faults":
        return emu.faults.as_dict()
    if what == "info":
        return {
            "base_url": emu.base_url,
            "base_file_url": emu.base_file_url,
            "control_url": emu.control_url,
            "token": emu.token,
            "bot": user_json(emu.bot),
        }
    raise DriverError(f"nothing to read at {what!r}")


def add_control_routes(app: web.Application) -> None:
    from bot.emulator.server import EMU_KEY

    async def post(request: web.Request) -> web.Response:
        emu = request.app[EMU_KEY]
        name = request.match_info["verb"]
        try:
            body = await request.json() if request.body_exists else {}
            if not isinstance(body, dict):
                raise DriverError("the body must be a JSON object")
            if name == "wait_bot_message":
                result = await _wait_bot_message(emu, body)
            else:
                fn = VERBS.get(name)
                if fn is None:
                    return web.json_response({"error": f"unknown verb {name!r}"}, status=404)
                result = fn(emu, body)
                if isinstance(result, Awaitable):
                    result = await result
        except TimeoutError as exc:
            return web.json_response({"error": str(exc)}, status=408)
        except (DriverError, ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"{exc.__class__.__name__}: {exc}"}, status=400)
        return web.json_response({"ok": True, "result": result})

    async def get(request: web.Request) -> web.Response:
        emu = request.app[EMU_KEY]
        try:
            result = _reads(emu, request.match_info["what"], request.match_info.get("arg"))
        except (DriverError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=404)
        return web.json_response(result)

    app.router.add_get("/control/{what}", get)
    app.router.add_get("/control/{what}/{arg}", get)
    app.router.add_post("/control/{verb}", post)

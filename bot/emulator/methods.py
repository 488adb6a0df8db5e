"""One function per emulated Bot API method, plus the shared checks Telegram applies to them.

Each method takes the ``BotApi`` core and the coerced parameters and returns the ``result`` of the
answer, or raises ``ApiError`` with Telegram's status and text. Sends check everything first, then
the rate limits, and only then change the world, so a refused request changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram.constants import PollLimit

from bot.emulator.errors import ApiError, bad_request, forbidden, too_many
from bot.emulator.faults import Faults
from bot.emulator.formatting import EntityParseError, plain_text, utf16_len
from bot.emulator.metrics import Metrics
from bot.emulator.params import plausible
from bot.emulator.ratelimit import RateLimiter
from bot.emulator.spec import InputFileValue
from bot.emulator.world import (
    CALLBACK_LIFETIME,
    DELETE_WINDOW,
    PRIVATE,
    SUPERGROUP,
    EButton,
    EChat,
    EDocument,
    EFile,
    EMessage,
    EPoll,
    World,
    member_dict,
)

Result = Any
Method = Callable[["BotApi", dict[str, Any]], Result | Awaitable[Result]]
METHODS: dict[str, Method] = {}

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
MIN_POLL_OPTIONS = int(getattr(PollLimit, "MIN_OPTION_NUMBER", 1))
NON_EMULATED_SENDS = ("send", "copy", "forward", "edit")


def method(name: str) -> Callable[[Method], Method]:
    """Register an emulated method under its lower-case name."""

    def register(fn: Method) -> Method:
        METHODS[name.lower()] = fn
        return fn

    return register


@dataclass
class RequestRecord:
    """One request as the log keeps it (small: the benchmark makes hundreds of thousands)."""

    method: str
    params: dict[str, Any]
    status: int
    error: str | None
    at: float
    chat_id: int | None


class _Poll:
    """A long poll in progress; a newer getUpdates terminates it with 409."""

    terminated = False


class BotApi:
    """The emulator core: the world plus the checks, limits and counters around it."""

    def __init__(
        self, world: World, faults: Faults, limiter: RateLimiter, metrics: Metrics
    ) -> None:
        self.world = world
        self.faults = faults
        self.limiter = limiter
        self.metrics = metrics
        self.rate_limits = True
        self._poll: _Poll | None = None
        self.not_emulated: list[str] = []

    def note_not_emulated(self, name: str) -> None:
        """Record a method that was answered plausibly but not emulated."""
        if name not in self.not_emulated:
            self.not_emulated.append(name)

    # -- chats -----------------------------------------------------------------------------
    def lookup_chat(self, chat_id: Any) -> EChat:
        """The chat named by ``chat_id`` (int or @username); 400 when unknown or migrated."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = None
        if isinstance(chat_id, str):
            s = chat_id.strip()
            if s.startswith("@"):
                chat = self.world.chat_by_username(s)
            elif re.fullmatch(r"-?\d+", s):
                chat = self.world.chats.get(int(s))
        elif isinstance(chat_id, int) and not isinstance(chat_id, bool):
            chat = self.world.chats.get(chat_id)
        if chat is None and isinstance(chat_id, int | str):
            # A known user whose private chat was never opened: it exists, unstarted.
            user = self.world.users.get(int(chat_id)) if str(chat_id).isdigit() else None
            if user is not None and not user.is_bot:
                chat = self.world.private_chat(user)
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        return chat

    def send_chat(self, chat_id: Any) -> EChat:
        """A chat the bot may write to now: 403 when blocked, kicked, never started..."""
        chat = self.lookup_chat(chat_id)
        if chat.id in self.faults.forbidden_chats:
            if chat.is_private:
                raise forbidden("bot was blocked by the user")
            raise forbidden(f"bot was kicked from the {_kind(chat)} chat")
        if chat.is_private:
            if chat.blocked:
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
        elif not chat.bot_in:
            if chat.bot_status == "kicked":
                raise forbidden(f"bot was kicked from the {_kind(chat)} chat")
            if chat.was_member:
                raise forbidden(f"bot is not a member of the {_kind(chat)} chat")
            raise bad_request("chat not found")
        return chat

    def read_chat(self, chat_id: Any) -> EChat:
        """A chat the bot may read (getters): kicked groups answer 403, unstarted users 400."""
        chat = self.lookup_chat(chat_id)
        if chat.is_private and not chat.started:
            raise bad_request("chat not found")
        if not chat.is_private and not chat.bot_in:
            if chat.bot_status == "kicked":
                raise forbidden(f"bot was kicked from the {_kind(chat)} chat")
            if chat.was_member:
                raise forbidden(f"bot is not a member of the {_kind(chat)} chat")
            raise bad_request("chat not found")
        return chat

    # -- limits ----------------------------------------------------------------------------
    def consume(self, chat: EChat, params: dict[str, Any]) -> None:
        """Count a send against the pinned limits, or refuse it with 429 (nothing applied)."""
        if not self.rate_limits:
            return
        now = self.world.clock.now()
        paid = bool(params.get("allow_paid_broadcast"))
        retry = self.limiter.check(now, chat.id, chat.is_private, paid)
        if retry is not None:
            self.metrics.too_many += 1
            raise too_many(retry)
        self.limiter.record(now, chat.id, chat.is_private)

    def sent(self, chat: EChat, key: tuple[Any, ...]) -> None:
        self.metrics.sent(chat.id, self.world.clock.now(), key)

    # -- content ---------------------------------------------------------------------------
    def parse(
        self,
        text: Any,
        parse_mode: Any,
        entities: Any,
        *,
        limit: int,
        empty: str | None,
        too_long: str,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Plain text and entities after Telegram's parsing, with its length checks."""
        if text is None:
            text = ""
        if not isinstance(text, str):
            text = json.dumps(text) if not isinstance(text, int | float) else str(text)
        if parse_mode:
            try:
                plain, ents = plain_text(text, str(parse_mode))
            except EntityParseError as exc:
                self.world.parse_errors.append(str(exc))
                raise bad_request(str(exc)) from None
            except ValueError:
                raise bad_request("unsupported parse_mode") from None
            ents = [_entity_dict(e) for e in ents]
        else:
            plain = text
            ents = [dict(e) for e in entities] if isinstance(entities, list) else []
        if empty is not None and not plain.strip():
            raise bad_request(empty)
        if utf16_len(plain) > limit:
            raise bad_request(too_long)
        return plain, ents

    def reply_target(self, chat: EChat, params: dict[str, Any]) -> int | None:
        """The message id replied to (reply_parameters or the legacy reply_to_message_id)."""
        rp = params.get("reply_parameters")
        mid: Any = None
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(rp, dict):
            mid = rp.get("message_id")
            allow = allow or bool(rp.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            mid = params.get("reply_to_message_id")
        if mid is None:
            return None
        try:
            mid = int(mid)
        except (TypeError, ValueError):
            raise bad_request("message to be replied not found") from None
        if self.world.get_message(chat.id, mid) is None:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return mid

    def input_file(self, value: Any, kind: str, missing: str) -> EFile:
        """An upload (stored) or a file_id of a stored file."""
        if isinstance(value, InputFileValue):
            content = _file_bytes(value)
            name = getattr(value, "filename", None)
            mime = getattr(value, "mime_type", None) or getattr(value, "content_type", None)
            return self.world.store_file(content, kind, name, mime)
        if value is None or value == "":
            raise bad_request(missing)
        if isinstance(value, str):
            if value.startswith("attach://"):
                raise bad_request(missing)
            f = self.world.files.get(value)
            if f is not None:
                return f
            if value.startswith(("http://", "https://")):
                raise bad_request("failed to get HTTP URL content")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def not_emulated_answer(self, name: str, params: dict[str, Any]) -> Result:
        """A plausible answer for a method that is not emulated; sends to a chat still get the
        chat checks (403s, migration) and the rate limits, and land in the transcript."""
        self.note_not_emulated(name)
        low = name.lower()
        chat: EChat | None = None
        if params.get("chat_id") is not None and low.startswith(NON_EMULATED_SENDS):
            chat = self.send_chat(params.get("chat_id"))
            if low != "sendchataction":
                self.consume(chat, params)
        result = plausible(name)
        if chat is not None and isinstance(result, dict) and "message_id" in result:
            msg = self.world.add_message(chat, from_bot=True, sender_id=None, not_emulated=name)
            self.sent(chat, (name, repr(sorted(params.items()))))
            if "chat" in result:
                result = self.world.message_api(msg)
            else:
                result["message_id"] = msg.message_id
        return result

    # -- getUpdates ------------------------------------------------------------------------
    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        world = self.world
        if world.webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if self._poll is not None:
            self._poll.terminated = True
            world.changed()
        poll = _Poll()
        self._poll = poll
        try:
            offset = _int(params.get("offset"), 0)
            limit = min(100, max(1, _int(params.get("limit"), 100)))
            timeout = max(0.0, float(_num(params.get("timeout"), 0)))
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                world.set_allowed_updates([str(a) for a in allowed])
            if offset:
                world.confirm(offset)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                if poll.terminated:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                if world.updates:
                    return world.pending(limit)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await world.wait_changed(remaining)
        finally:
            if self._poll is poll:
                self._poll = None


# -- helpers ---------------------------------------------------------------------------------
def _kind(chat: EChat) -> str:
    return "supergroup" if chat.type == SUPERGROUP else "group"


def _int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"wrong parameter value {value!r}") from None


def _num(value: Any, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise bad_request(f"wrong parameter value {value!r}") from None


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _entity_dict(e: Any) -> dict[str, Any]:
    if isinstance(e, dict):
        return e
    if hasattr(e, "to_dict"):
        return e.to_dict()
    return {k: v for k, v in vars(e).items() if v is not None}


def _file_bytes(value: Any) -> bytes:
    for attr in ("content", "data", "value"):
        data = getattr(value, attr, None)
        if isinstance(data, bytes | bytearray):
            return bytes(data)
    return b""


def _message_id(params: dict[str, Any]) -> int:
    return _int(params.get("message_id"), 0)


def parse_markup(markup: Any) -> tuple[list[list[EButton]], dict[str, Any] | None]:
    """Buttons and the inline keyboard to echo; reply keyboards are accepted but not echoed."""
    if markup is None or markup == "":
        return [], None
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return [], None
    if not isinstance(rows, list):
        raise bad_request(
            'can\'t parse inline keyboard button: field "inline_keyboard" must be an Array'
        )
    buttons: list[list[EButton]] = []
    clean_rows: list[list[dict[str, Any]]] = []
    for row in rows:
        if not isinstance(row, list):
            raise bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
            )
        out_row: list[EButton] = []
        for b in row:
            if not isinstance(b, dict):
                raise bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            data = b.get("callback_data")
            if data is not None:
                data = str(data)
                if not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            text = str(b.get("text", ""))
            out_row.append(EButton(text=text, callback_data=data, url=b.get("url")))
        buttons.append(out_row)
        clean_rows.append([dict(b) for b in row])
    return buttons, {"inline_keyboard": clean_rows}


def _content_key(msg: EMessage) -> tuple[Any, ...]:
    if msg.poll is not None:
        return ("poll", msg.poll.question, tuple(msg.poll.options))
    if msg.document is not None:
        return ("document", msg.document.filename, hash(msg.document.content), msg.caption_html)
    if msg.photo_file is not None:
        return ("photo", hash(msg.photo_file.content), msg.caption_html)
    return ("text", msg.html)


# -- the methods -----------------------------------------------------------------------------
@method("getMe")
def get_me(api: BotApi, p: dict[str, Any]) -> Result:
    d = api.world.bot_user.to_api()
    d.update(
        can_join_groups=True,
        can_read_all_group_messages=not api.world.privacy_mode,
        supports_inline_queries=False,
        can_connect_to_business=False,
        has_main_web_app=False,
    )
    return d


@method("getUpdates")
async def get_updates(api: BotApi, p: dict[str, Any]) -> Result:
    return await api.get_updates(p)


@method("logOut")
@method("close")
def log_out(api: BotApi, p: dict[str, Any]) -> Result:
    return True


@method("setWebhook")
def set_webhook(api: BotApi, p: dict[str, Any]) -> Result:
    world = api.world
    url = str(p.get("url") or "")
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.get("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
        raise bad_request("secret token contains unallowed characters")
    if _bool(p.get("drop_pending_updates")):
        world.updates.clear()
    allowed = p.get("allowed_updates")
    if isinstance(allowed, list):
        world.set_allowed_updates([str(a) for a in allowed])
    world.webhook.url = url
    world.webhook.secret_token = str(secret) if secret is not None and url else None
    world.webhook.max_connections = _int(p.get("max_connections"), 40)
    world.webhook.last_error_date = None
    world.webhook.last_error_message = None
    if api._poll is not None and url:
        api._poll.terminated = True
    world.changed()
    return True


@method("deleteWebhook")
def delete_webhook(api: BotApi, p: dict[str, Any]) -> Result:
    world = api.world
    if _bool(p.get("drop_pending_updates")):
        world.updates.clear()
    world.webhook.url = ""
    world.webhook.secret_token = None
    world.changed()
    return True


@method("getWebhookInfo")
def get_webhook_info(api: BotApi, p: dict[str, Any]) -> Result:
    wh = api.world.webhook
    d: dict[str, Any] = {
        "url": wh.url,
        "has_custom_certificate": False,
        "pending_update_count": len(api.world.updates),
    }
    if wh.url:
        d["max_connections"] = wh.max_connections
        d["ip_address"] = wh.ip_address
    if wh.last_error_date is not None:
        d["last_error_date"] = wh.last_error_date
        d["last_error_message"] = wh.last_error_message or ""
    if api.world.allowed_updates_list is not None:
        d["allowed_updates"] = api.world.allowed_updates_list
    return d


@method("sendMessage")
def send_message(api: BotApi, p: dict[str, Any]) -> Result:
    chat = api.send_chat(p.get("chat_id"))
    text = p.get("text")
    plain, ents = api.parse(
        text, p.get("parse_mode"), p.get("entities"),
        limit=TEXT_LIMIT, empty="message text is empty", too_long="message is too long",
    )  # fmt: skip
    buttons, markup = parse_markup(p.get("reply_markup"))
    reply_to = api.reply_target(chat, p)
    api.consume(chat, p)
    msg = api.world.add_message(
        chat, from_bot=True, sender_id=None, text=plain, html=str(text),
        parse_mode=p.get("parse_mode"), entities=ents, buttons=buttons, reply_markup=markup,
        protect_content=_bool(p.get("protect_content")), reply_to_message_id=reply_to,
    )  # fmt: skip
    api.sent(chat, _content_key(msg))
    api.world.changed()
    return api.world.message_api(msg)


def _send_media(api: BotApi, p: dict[str, Any], kind: str) -> Result:
    chat = api.send_chat(p.get("chat_id"))
    f = api.input_file(p.get(kind), kind, f"there is no {kind} in the request")
    caption = p.get("caption")
    cap_plain: str | None = None
    cap_ents: list[dict[str, Any]] = []
    if caption not in (None, ""):
        cap_plain, cap_ents = api.parse(
            caption, p.get("parse_mode"), p.get("caption_entities"),
            limit=CAPTION_LIMIT, empty=None, too_long="message caption is too long",
        )  # fmt: skip
    buttons, markup = parse_markup(p.get("reply_markup"))
    reply_to = api.reply_target(chat, p)
    api.consume(chat, p)
    fields: dict[str, Any] = {}
    if kind == "document":
        fields["document"] = EDocument(
            f.filename, f.mime_type, f.content, f.file_id, f.file_unique_id
        )
    else:
        fields["photo"] = f.content
        fields["photo_file"] = f
    msg = api.world.add_message(
        chat, from_bot=True, sender_id=None, caption=cap_plain,
        caption_html=str(caption) if cap_plain is not None else None,
        caption_entities=cap_ents, parse_mode=p.get("parse_mode"), buttons=buttons,
        reply_markup=markup, protect_content=_bool(p.get("protect_content")),
        reply_to_message_id=reply_to, **fields,
    )  # fmt: skip
    api.sent(chat, _content_key(msg))
    api.world.changed()
    return api.world.message_api(msg)


@method("sendDocument")
def send_document(api: BotApi, p: dict[str, Any]) -> Result:
    return _send_media(api, p, "document")


@method("sendPhoto")
def send_photo(api: BotApi, p: dict[str, Any]) -> Result:
    return _send_media(api, p, "photo")


@method("getFile")
def get_file(api: BotApi, p: dict[str, Any]) -> Result:
    f = api.world.files.get(str(p.get("file_id") or ""))
    if f is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": f.file_id,
        "file_unique_id": f.file_unique_id,
        "file_size": f.size,
        "file_path": f.file_path,
    }


def _bot_message_to_edit(api: BotApi, p: dict[str, Any]) -> tuple[EChat, EMessage]:
    if p.get("inline_message_id"):
        raise _InlineEdit()
    chat = api.send_chat(p.get("chat_id"))
    msg = api.world.get_message(chat.id, _message_id(p))
    if msg is None:
        raise bad_request("message to edit not found")
    if not msg.from_bot:
        raise bad_request("message can't be edited")
    return chat, msg


class _InlineEdit(Exception):
    """Edits of inline messages are not emulated: answered True."""


@method("editMessageText")
def edit_message_text(api: BotApi, p: dict[str, Any]) -> Result:
    try:
        chat, msg = _bot_message_to_edit(api, p)
    except _InlineEdit:
        api.note_not_emulated("editMessageText")
        return True
    if msg.text is None:
        raise bad_request("there is no text in the message to edit")
    text = p.get("text")
    plain, ents = api.parse(
        text, p.get("parse_mode"), p.get("entities"),
        limit=TEXT_LIMIT, empty="text must be non-empty", too_long="message is too long",
    )  # fmt: skip
    buttons, markup = parse_markup(p.get("reply_markup"))
    if plain == msg.text and ents == msg.entities and markup == msg.reply_markup:
        raise _wasted(api, NOT_MODIFIED)
    api.consume(chat, p)
    msg.text, msg.entities, msg.html, msg.parse_mode = plain, ents, str(text), p.get("parse_mode")
    return _edited(api, msg, buttons, markup)


def _edited(api: BotApi, msg: EMessage, buttons: list[list[EButton]],
            markup: dict[str, Any] | None) -> Result:
    """The common end of every edit: the new keyboard, the edit date, and the answer."""
    msg.buttons, msg.reply_markup = buttons, markup
    msg.edit_date = api.world.clock.now()
    api.world.changed()
    return api.world.message_api(msg)


@method("editMessageCaption")
def edit_message_caption(api: BotApi, p: dict[str, Any]) -> Result:
    try:
        chat, msg = _bot_message_to_edit(api, p)
    except _InlineEdit:
        api.note_not_emulated("editMessageCaption")
        return True
    if msg.text is not None:
        raise bad_request("there is no caption in the message to edit")
    caption = p.get("caption")
    cap_plain: str | None = None
    cap_ents: list[dict[str, Any]] = []
    if caption not in (None, ""):
        cap_plain, cap_ents = api.parse(
            caption, p.get("parse_mode"), p.get("caption_entities"),
            limit=CAPTION_LIMIT, empty=None, too_long="message caption is too long",
        )  # fmt: skip
    buttons, markup = parse_markup(p.get("reply_markup"))
    if cap_plain == msg.caption and cap_ents == msg.caption_entities and markup == msg.reply_markup:
        raise _wasted(api, NOT_MODIFIED)
    api.consume(chat, p)
    msg.caption, msg.caption_entities = cap_plain, cap_ents
    msg.caption_html = str(caption) if cap_plain is not None else None
    return _edited(api, msg, buttons, markup)


def _wasted(api: BotApi, reason: str) -> Exception:
    """A request Telegram refuses because it changes nothing or comes too late: noted, so a test
    can fail a bot that asks for identical edits or answers a query twice or after its life."""
    api.world.wasted_requests.append(reason.split(":")[0])
    return bad_request(reason)


@method("editMessageReplyMarkup")
def edit_message_reply_markup(api: BotApi, p: dict[str, Any]) -> Result:
    try:
        chat, msg = _bot_message_to_edit(api, p)
    except _InlineEdit:
        api.note_not_emulated("editMessageReplyMarkup")
        return True
    buttons, markup = parse_markup(p.get("reply_markup"))
    if markup == msg.reply_markup:
        raise _wasted(api, NOT_MODIFIED)
    api.consume(chat, p)
    return _edited(api, msg, buttons, markup)


def _can_delete(api: BotApi, chat: EChat, msg: EMessage) -> bool:
    if api.world.clock.now() - msg.date > DELETE_WINDOW:
        return False
    return msg.from_bot or chat.is_private or chat.bot_admin


@method("deleteMessage")
def delete_message(api: BotApi, p: dict[str, Any]) -> Result:
    chat = api.send_chat(p.get("chat_id"))
    msg = api.world.get_message(chat.id, _message_id(p))
    if msg is None:
        raise bad_request("message to delete not found")
    if not _can_delete(api, chat, msg):
        raise bad_request("message can't be deleted")
    msg.deleted = True
    api.world.changed()
    return True


@method("deleteMessages")
def delete_messages(api: BotApi, p: dict[str, Any]) -> Result:
    chat = api.send_chat(p.get("chat_id"))
    ids = p.get("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message identifiers are not specified")
    deleted = False
    for mid in ids:
        msg = api.world.get_message(chat.id, _int(mid, 0))
        if msg is not None and _can_delete(api, chat, msg):
            msg.deleted = True
            deleted = True
    if not deleted:
        raise bad_request("message to delete not found")
    api.world.changed()
    return True


@method("answerCallbackQuery")
def answer_callback_query(api: BotApi, p: dict[str, Any]) -> Result:
    world = api.world
    q = world.callbacks.get(str(p.get("callback_query_id") or ""))
    if q is None or q.answered or world.clock.now() - q.created_at > CALLBACK_LIFETIME:
        raise _wasted(api, TOO_OLD)
    text = p.get("text")
    if text is not None and len(str(text)) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    q.answered = True
    q.answer_text = str(text) if text is not None else None
    q.show_alert = _bool(p.get("show_alert"))
    world.callback_answers.append((q.id, q.answer_text, q.show_alert))
    world.changed()
    return True


def _poll_options(raw: Any) -> list[str]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise bad_request("can't parse options JSON object") from None
    if not isinstance(raw, list):
        raise bad_request("can't parse options JSON object")
    out = []
    for o in raw:
        text = o.get("text") if isinstance(o, dict) else o
        text = "" if text is None else str(text)
        if not text.strip():
            raise bad_request("poll options must be non-empty")
        if len(text) > PollLimit.MAX_OPTION_LENGTH:
            raise bad_request(f"poll options length must not exceed {PollLimit.MAX_OPTION_LENGTH}")
        out.append(text)
    return out


@method("sendPoll")
def send_poll(api: BotApi, p: dict[str, Any]) -> Result:
    world = api.world
    chat = api.send_chat(p.get("chat_id"))
    question = str(p.get("question") or "")
    if not question.strip():
        raise bad_request("poll question must be non-empty")
    if len(question) > PollLimit.MAX_QUESTION_LENGTH:
        raise bad_request(f"poll question length must not exceed {PollLimit.MAX_QUESTION_LENGTH}")
    options = _poll_options(p.get("options"))
    if len(options) < MIN_POLL_OPTIONS:
        raise bad_request(f"poll must have at least {MIN_POLL_OPTIONS} option")
    if len(options) > PollLimit.MAX_OPTION_NUMBER:
        raise bad_request(f"poll can't have more than {PollLimit.MAX_OPTION_NUMBER} options")
    now = world.clock.now()
    open_period = p.get("open_period")
    close_date = p.get("close_date")
    if open_period is not None and close_date is not None:
        raise bad_request("can't use open_period and close_date together")
    close_at: float | None = None
    if open_period is not None:
        open_period = _int(open_period, 0)
        if not PollLimit.MIN_OPEN_PERIOD <= open_period <= PollLimit.MAX_OPEN_PERIOD:
            raise bad_request("wrong open period specified")
        close_at = now + open_period
    elif close_date is not None:
        close_at = float(_int(close_date, 0))
        if not PollLimit.MIN_OPEN_PERIOD <= close_at - now <= PollLimit.MAX_OPEN_PERIOD:
            raise bad_request("wrong close date specified")
    ptype = str(p.get("type") or "regular")
    if ptype not in ("regular", "quiz"):
        raise bad_request("wrong poll type specified")
    correct = p.get("correct_option_id")
    if (
        correct is None
        and isinstance(p.get("correct_option_ids"), list)
        and p["correct_option_ids"]
    ):
        correct = p["correct_option_ids"][0]
    if ptype == "quiz":
        if correct is None or not 0 <= _int(correct, -1) < len(options):
            raise bad_request("wrong correct option ID specified")
        correct = _int(correct, 0)
    else:
        correct = None
    buttons, markup = parse_markup(p.get("reply_markup"))
    reply_to = api.reply_target(chat, p)
    api.consume(chat, p)
    poll = EPoll(
        id=str(5_000_000_000_000_000_000 + world.new_id()),
        question=question,
        options=options,
        chat_id=chat.id,
        message_id=chat.next_message_id,
        is_anonymous=_bool(p["is_anonymous"]) if p.get("is_anonymous") is not None else True,
        type=ptype,
        allows_multiple_answers=_bool(p.get("allows_multiple_answers")),
        correct_option_id=correct,
        explanation=p.get("explanation"),
        open_period=open_period,
        close_date=close_at,
        is_closed=_bool(p.get("is_closed")),
    )
    msg = world.add_message(
        chat, from_bot=True, sender_id=None, poll=poll, buttons=buttons, reply_markup=markup,
        protect_content=_bool(p.get("protect_content")), reply_to_message_id=reply_to,
    )  # fmt: skip
    world.add_poll(poll)
    api.sent(chat, _content_key(msg))
    world.changed()
    return world.message_api(msg)


@method("stopPoll")
def stop_poll(api: BotApi, p: dict[str, Any]) -> Result:
    world = api.world
    chat = api.send_chat(p.get("chat_id"))
    msg = world.get_message(chat.id, _message_id(p))
    if msg is None:
        raise bad_request("message with poll to stop not found")
    if msg.poll is None:
        raise bad_request("message is not a poll")
    if not msg.from_bot:
        raise bad_request("poll can't be stopped")
    if msg.poll.is_closed:
        raise bad_request("poll has already been closed")
    buttons, markup = parse_markup(p.get("reply_markup"))
    api.consume(chat, p)
    msg.buttons, msg.reply_markup = buttons, markup
    world.close_poll(msg.poll)
    return msg.poll.to_api()


def _source_message(api: BotApi, p: dict[str, Any], what: str) -> EMessage:
    src_chat = api.lookup_chat(p.get("from_chat_id"))
    msg = api.world.get_message(src_chat.id, _message_id(p))
    if msg is None:
        raise bad_request(f"message to {what} not found")
    if msg.service is not None:
        raise bad_request(
            f"message can't be {what}ed" if what != "copy" else "message can't be copied"
        )
    if msg.protect_content:
        raise bad_request("message has protected content and can't be forwarded")
    return msg


def _clone_fields(src: EMessage) -> dict[str, Any]:
    return {
        "text": src.text, "html": src.html, "parse_mode": src.parse_mode,
        "entities": list(src.entities), "caption": src.caption, "caption_html": src.caption_html,
        "caption_entities": list(src.caption_entities), "document": src.document,
        "photo": src.photo, "photo_file": src.photo_file,
    }  # fmt: skip


@method("copyMessage")
def copy_message(api: BotApi, p: dict[str, Any]) -> Result:
    world = api.world
    src = _source_message(api, p, "copy")
    chat = api.send_chat(p.get("chat_id"))
    fields = _clone_fields(src)
    if src.poll is not None:
        raise bad_request("message can't be copied")
    if p.get("caption") is not None and src.text is None:
        cap = p.get("caption")
        fields["caption"], fields["caption_entities"] = api.parse(
            cap, p.get("parse_mode"), p.get("caption_entities"),
            limit=CAPTION_LIMIT, empty=None, too_long="message caption is too long",
        )  # fmt: skip
        fields["caption_html"] = str(cap)
    buttons, markup = parse_markup(p.get("reply_markup"))
    reply_to = api.reply_target(chat, p)
    api.consume(chat, p)
    msg = world.add_message(
        chat, from_bot=True, sender_id=None, buttons=buttons, reply_markup=markup,
        protect_content=_bool(p.get("protect_content")), reply_to_message_id=reply_to, **fields,
    )  # fmt: skip
    api.sent(chat, _content_key(msg))
    world.changed()
    return {"message_id": msg.message_id}


@method("forwardMessage")
def forward_message(api: BotApi, p: dict[str, Any]) -> Result:
    world = api.world
    src = _source_message(api, p, "forward")
    chat = api.send_chat(p.get("chat_id"))
    api.consume(chat, p)
    fields = _clone_fields(src)
    sender = world.users.get(src.sender_id) if src.sender_id is not None else None
    origin: dict[str, Any]
    if sender is not None:
        origin = {"type": "user", "date": int(src.date), "sender_user": sender.to_api()}
    else:
        origin = {"type": "hidden_user", "date": int(src.date), "sender_user_name": "Unknown"}
    msg = world.add_message(
        chat, from_bot=True, sender_id=None, poll=src.poll,
        protect_content=_bool(p.get("protect_content")), extra={"forward_origin": origin},
        **fields,
    )  # fmt: skip
    api.sent(chat, _content_key(msg))
    world.changed()
    return world.message_api(msg)


@method("sendChatAction")
def send_chat_action(api: BotApi, p: dict[str, Any]) -> Result:
    api.send_chat(p.get("chat_id"))
    if not p.get("action"):
        raise bad_request("wrong parameter action in request")
    return True


@method("getChat")
def get_chat(api: BotApi, p: dict[str, Any]) -> Result:
    chat = api.read_chat(p.get("chat_id"))
    d = chat.to_api()
    d.update(
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types={
            "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
            "premium_subscription": False, "gifts_from_channels": False,
        },
    )  # fmt: skip
    if chat.migrated_from is not None:
        d["description"] = ""
    return d


def _user(api: BotApi, user_id: Any) -> Any:
    uid = _int(user_id, 0)
    user = api.world.users.get(uid)
    if user is None:
        raise bad_request("user not found")
    return user


@method("getChatMember")
def get_chat_member(api: BotApi, p: dict[str, Any]) -> Result:
    chat = api.read_chat(p.get("chat_id"))
    user = _user(api, p.get("user_id"))
    if chat.is_private:
        status = "member" if user.id in (chat.id, api.world.bot_user.id) else "left"
        return member_dict(status, user)
    return api.world.member_api(chat, user)


@method("getChatAdministrators")
def get_chat_administrators(api: BotApi, p: dict[str, Any]) -> Result:
    world = api.world
    chat = api.read_chat(p.get("chat_id"))
    if chat.is_private:
        raise bad_request("there are no administrators in the private chat")
    out = [
        member_dict(status, world.users[uid])
        for uid, status in chat.members.items()
        if status in ("creator", "administrator") and uid in world.users
    ]
    if chat.bot_admin:
        out.append(member_dict("administrator", world.bot_user))
    return out


@method("getChatMemberCount")
def get_chat_member_count(api: BotApi, p: dict[str, Any]) -> Result:
    chat = api.read_chat(p.get("chat_id"))
    if chat.is_private:
        return 2
    n = sum(
        1
        for s in chat.members.values()
        if s in ("creator", "administrator", "member", "restricted")
    )
    return n + (1 if chat.bot_in else 0)


@method("leaveChat")
def leave_chat(api: BotApi, p: dict[str, Any]) -> Result:
    world = api.world
    chat = api.read_chat(p.get("chat_id"))
    if chat.is_private:
        raise bad_request("chat member status can't be changed in private chats")
    old = member_dict(chat.bot_status, world.bot_user)
    chat.bot_status = "left"
    world.add_message(
        chat, from_bot=True, sender_id=None, service="left_chat_member",
        extra={"left_chat_member": world.bot_user.to_api()},
    )  # fmt: skip
    world.emit("my_chat_member", {
        "chat": chat.to_api(), "from": world.bot_user.to_api(), "date": int(world.clock.now()),
        "old_chat_member": old, "new_chat_member": member_dict("left", world.bot_user),
    })  # fmt: skip
    world.changed()
    return True


def _commands_key(p: dict[str, Any]) -> tuple[str, str]:
    scope = p.get("scope") or {"type": "default"}
    if isinstance(scope, str):
        try:
            scope = json.loads(scope)
        except ValueError:
            raise bad_request("can't parse BotCommandScope JSON object") from None
    return json.dumps(scope, sort_keys=True), str(p.get("language_code") or "")


@method("setMyCommands")
def set_my_commands(api: BotApi, p: dict[str, Any]) -> Result:
    commands = p.get("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    clean = []
    for c in commands:
        if not isinstance(c, dict):
            raise bad_request("can't parse BotCommand JSON object")
        name = str(c.get("command", ""))
        desc = str(c.get("description", ""))
        if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(desc) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": name, "description": desc})
    api.world.commands[_commands_key(p)] = clean
    return True


@method("getMyCommands")
def get_my_commands(api: BotApi, p: dict[str, Any]) -> Result:
    return api.world.commands.get(_commands_key(p), [])


@method("deleteMyCommands")
def delete_my_commands(api: BotApi, p: dict[str, Any]) -> Result:
    api.world.commands.pop(_commands_key(p), None)
    return True


__all__ = [
    "CAPTION_LIMIT",
    "METHODS",
    "NOT_MODIFIED",
    "PRIVATE",
    "TEXT_LIMIT",
    "TOO_OLD",
    "BotApi",
    "RequestRecord",
    "parse_markup",
]

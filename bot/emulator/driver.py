"""``Emulator``: the in-process driver tests use (README.md, "The driver API").

It owns the world, the server and the background tasks. The world-changing calls are
synchronous (they change state and enqueue the update Telegram would send); only starting,
stopping and waiting are coroutines.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from bot.emulator.clock import Clock
from bot.emulator.errors import DriverError
from bot.emulator.faults import Faults
from bot.emulator.formatting import utf16_len
from bot.emulator.methods import BotApi, RequestRecord
from bot.emulator.metrics import Metrics
from bot.emulator.ratelimit import RateLimiter
from bot.emulator.server import deliver_webhook, make_app, tick_polls
from bot.emulator.spec import ApiSpec, Violation
from bot.emulator.world import (
    GROUP,
    ECallbackQuery,
    EChat,
    EDocument,
    EMessage,
    EUser,
    World,
    member_dict,
)

ChatRef = EChat | int
ANONYMOUS_ADMIN_ID = 1087968824  # Telegram's GroupAnonymousBot
MessageRef = EMessage | tuple[int, int]


class Emulator:
    """A local Telegram Bot API with a world tests can drive and read."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",  # noqa: S107 - the emulator's own fake token
        bot_username: str = "coalition_test_bot",
        strict: bool = True,
        rate_limits: bool = True,
        chat_limits: bool = True,
        clock_scale: float = 1.0,
        clock_start: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        privacy_mode: bool = True,
        bot_name: str = "Coalition Test Bot",
        default_last_name: str | None = None,
    ) -> None:
        """`default_last_name`: the last name of every user added without one (the tests give
        one with '<', '&' and a right-to-left mark, so a name reaching HTML unescaped or
        unisolated shows up in any test)."""
        self.default_last_name = default_last_name
        self.token = token
        self.host = host
        self.port = port
        self.strict = strict
        self.clock = Clock(start=clock_start, scale=clock_scale)
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456
        self.bot = EUser(bot_id, bot_name, username=bot_username, is_bot=True)
        self.world = World(self.clock, self.bot, privacy_mode=privacy_mode)
        self.faults = Faults()
        self.api = BotApi(self.world, self.faults, RateLimiter(per_chat=chat_limits), Metrics())
        self.api.rate_limits = rate_limits
        self.spec = ApiSpec.load()
        self.requests: list[RequestRecord] = []
        self.violations: list[Violation] = []
        self.webhook_timeout = 60.0
        self.webhook_retry_delay = 0.1
        self.webhook_retry_max = 5.0
        self.webhook_log: list[tuple[int, int, str | None]] = []
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._callback_ids = 0

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> Emulator:
        """Bind the server (a free port by default) and start the background tasks."""
        app = make_app(self)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if server is not None and getattr(server, "sockets", None):
            self.port = server.sockets[0].getsockname()[1]
        self._tasks = [
            asyncio.create_task(tick_polls(self), name="emulator-polls"),
            asyncio.create_task(deliver_webhook(self), name="emulator-webhook"),
        ]
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def control_url(self) -> str:
        return f"{self.url}/control"

    # -- switches ----------------------------------------------------------------------------
    @property
    def rate_limits(self) -> bool:
        return self.api.rate_limits

    @rate_limits.setter
    def rate_limits(self, value: bool) -> None:
        self.api.rate_limits = bool(value)

    @property
    def chat_limits(self) -> bool:
        """Whether the per-chat and per-group limits apply (the overall one always does while
        ``rate_limits`` is on). A bot talking to this emulator should pace to match."""
        return self.api.limiter.per_chat

    @chat_limits.setter
    def chat_limits(self, value: bool) -> None:
        self.api.limiter.per_chat = bool(value)

    @property
    def privacy_mode(self) -> bool:
        return self.world.privacy_mode

    @privacy_mode.setter
    def privacy_mode(self, value: bool) -> None:
        self.world.privacy_mode = bool(value)

    @property
    def not_emulated(self) -> list[str]:
        return self.api.not_emulated

    @property
    def callback_answers(self) -> list[tuple[str, str | None, bool]]:
        return self.world.callback_answers

    @property
    def wasted_requests(self) -> list[str]:
        """Telegram's "message is not modified" and "query is too old" answers so far: an edit
        that changed nothing, a callback query answered twice or after its life."""
        return self.world.wasted_requests

    @property
    def parse_errors(self) -> list[str]:
        """Telegram's "can't parse entities" answers so far (each a message nobody received)."""
        return self.world.parse_errors

    # -- lookups -----------------------------------------------------------------------------
    def chat(self, ref: ChatRef) -> EChat:
        cid = ref.id if isinstance(ref, EChat) else int(ref)
        chat = self.world.chats.get(cid)
        if chat is None:
            raise DriverError(f"no chat {cid}")
        return chat

    def user(self, ref: EUser | int) -> EUser:
        uid = ref.id if isinstance(ref, EUser) else int(ref)
        user = self.world.users.get(uid)
        if user is None:
            raise DriverError(f"no user {uid}")
        return user

    def message(self, ref: MessageRef) -> EMessage:
        chat_id, mid = (ref.chat_id, ref.message_id) if isinstance(ref, EMessage) else ref
        msg = self.world.messages.get((chat_id, mid))
        if msg is None:
            raise DriverError(f"no message {mid} in chat {chat_id}")
        return msg

    # -- the world ---------------------------------------------------------------------------
    def add_user(
        self,
        first_name: str,
        username: str | None = None,
        language_code: str | None = None,
        user_id: int | None = None,
        last_name: str | None = None,
    ) -> EUser:
        if last_name is None:
            last_name = self.default_last_name
        user = self.world.add_user(first_name, username, user_id, last_name, language_code)
        self.world.changed()
        return user

    def private_chat(self, user: EUser | int) -> EChat:
        return self.world.private_chat(self.user(user))

    def add_group(
        self,
        title: str,
        members: Iterable[EUser] = (),
        admins: Iterable[EUser] = (),
        supergroup: bool = False,
        username: str | None = None,
    ) -> EChat:
        """A group (or supergroup) without the bot; the first admin is its creator."""
        chat = self.world.add_group(title, supergroup=supergroup, username=username)
        admins = list(admins)
        for user in members:
            chat.members[self.user(user).id] = "member"
        for i, user in enumerate(admins):
            chat.members[self.user(user).id] = "creator" if i == 0 else "administrator"
        self.world.changed()
        return chat

    def _my_chat_member(self, chat: EChat, by: EUser, old: str, new: str) -> None:
        w = self.world
        w.emit("my_chat_member", {
            "chat": chat.to_api(), "from": by.to_api(), "date": int(self.clock.now()),
            "old_chat_member": member_dict(old, self.bot),
            "new_chat_member": member_dict(new, self.bot),
        })  # fmt: skip

    def _service(self, chat: EChat, by: EUser, kind: str, extra: dict[str, Any]) -> EMessage:
        msg = self.world.add_message(
            chat, from_bot=False, sender_id=by.id, service=kind, extra=extra
        )
        if self.world.bot_receives(chat, msg):
            self.world.emit("message", self.world.message_api(msg))
        return msg

    def add_bot(self, chat: ChatRef, by: EUser, admin: bool = False) -> EMessage:
        """``by`` adds the bot: my_chat_member, then the new_chat_members service message."""
        chat = self.chat(chat)
        if chat.is_private:
            raise DriverError("the bot cannot be added to a private chat")
        old = chat.bot_status
        chat.bot_status = "administrator" if admin else "member"
        chat.was_member = True
        self._my_chat_member(chat, by, old, chat.bot_status)
        msg = self._service(chat, by, "new_chat_members", {"new_chat_members": [self.bot.to_api()]})
        self.world.changed()
        return msg

    def promote_bot(self, chat: ChatRef, by: EUser) -> None:
        chat = self._bot_chat(chat)
        old, chat.bot_status = chat.bot_status, "administrator"
        self._my_chat_member(chat, by, old, "administrator")
        self.world.changed()

    def demote_bot(self, chat: ChatRef, by: EUser) -> None:
        chat = self._bot_chat(chat)
        old, chat.bot_status = chat.bot_status, "member"
        self._my_chat_member(chat, by, old, "member")
        self.world.changed()

    def remove_bot(self, chat: ChatRef, by: EUser) -> EMessage:
        """``by`` removes the bot: my_chat_member (kicked); later sends answer 403."""
        chat = self._bot_chat(chat)
        old, chat.bot_status = chat.bot_status, "kicked"
        self._my_chat_member(chat, by, old, "kicked")
        msg = self.world.add_message(
            chat, from_bot=False, sender_id=by.id, service="left_chat_member",
            extra={"left_chat_member": self.bot.to_api()},
        )  # fmt: skip
        self.world.changed()
        return msg

    def _bot_chat(self, ref: ChatRef) -> EChat:
        chat = self.chat(ref)
        if not chat.bot_in:
            raise DriverError(f"the bot is not in {chat.title or chat.id}")
        return chat

    def migrate(self, chat: ChatRef, by: EUser | None = None) -> EChat:
        """Upgrade a group to a supergroup: service messages in both; the old id answers 400."""
        old = self.chat(chat)
        if old.type != GROUP:
            raise DriverError("only a basic group can migrate")
        w = self.world
        if by is None:
            uid = next(iter(old.members), None)
            by = w.users[uid] if uid is not None else self.bot
        new = w.add_group(old.title or "", supergroup=True, username=old.username)
        new.members = dict(old.members)
        new.bot_status, new.was_member, new.migrated_from = old.bot_status, old.was_member, old.id
        self._service(old, by, "migrate_to_chat_id", {"migrate_to_chat_id": new.id})
        self._service(new, by, "migrate_from_chat_id", {"migrate_from_chat_id": old.id})
        old.migrated_to = new.id
        w.changed()
        return new

    def block(self, user: EUser | int) -> None:
        """The user blocks the bot: my_chat_member in the private chat; sends answer 403."""
        user = self.user(user)
        chat = self.world.private_chat(user)
        if chat.blocked:
            return
        chat.blocked = True
        self._my_chat_member(chat, user, "member", "kicked")
        self.world.changed()

    def unblock(self, user: EUser | int) -> None:
        user = self.user(user)
        chat = self.world.private_chat(user)
        if not chat.blocked:
            return
        chat.blocked = False
        chat.started = True
        self._my_chat_member(chat, user, "kicked", "member")
        self.world.changed()

    def join_group(self, user: EUser, chat: ChatRef) -> EMessage:
        chat, user = self.chat(chat), self.user(user)
        old = chat.members.get(user.id, "left")
        chat.members[user.id] = "member"
        msg = self._service(chat, user, "new_chat_members", {"new_chat_members": [user.to_api()]})
        self._chat_member(chat, user, old, "member")
        self.world.changed()
        return msg

    def leave_group(self, user: EUser, chat: ChatRef) -> EMessage:
        chat, user = self.chat(chat), self.user(user)
        old = chat.members.pop(user.id, "left")
        msg = self._service(chat, user, "left_chat_member", {"left_chat_member": user.to_api()})
        self._chat_member(chat, user, old, "left")
        self.world.changed()
        return msg

    def _chat_member(self, chat: EChat, user: EUser, old: str, new: str) -> None:
        if chat.bot_admin:
            self.world.emit("chat_member", {
                "chat": chat.to_api(), "from": user.to_api(), "date": int(self.clock.now()),
                "old_chat_member": member_dict(old, user),
                "new_chat_member": member_dict(new, user),
            })  # fmt: skip

    # -- people act --------------------------------------------------------------------------
    def _where(self, user: EUser, chat: ChatRef | None) -> EChat:
        if chat is None:
            pc = self.world.private_chat(user)
            if pc.blocked:
                raise DriverError(f"{user.first_name} blocked the bot; unblock() first")
            pc.started = True
            return pc
        target = self.chat(chat)
        if target.migrated_to is not None:
            raise DriverError(f"chat {target.id} migrated to {target.migrated_to}")
        if target.is_private:
            if target.id != user.id:
                raise DriverError("a user can only write in their own private chat with the bot")
            return self._where(user, None)
        if user.id not in target.members:
            raise DriverError(f"{user.first_name} is not a member of {target.title}")
        return target

    def _deliver(self, chat: EChat, msg: EMessage, kind: str = "message") -> EMessage:
        if self.world.bot_receives(chat, msg):
            self.world.emit(kind, self.world.message_api(msg))
        self.world.changed()
        return msg

    def send(
        self,
        user: EUser,
        text: str,
        chat: ChatRef | None = None,
        reply_to: MessageRef | None = None,
        entities: list[dict[str, Any]] | None = None,
        anonymous: bool = False,
    ) -> EMessage:
        """A person writes ``text``; commands get bot_command entities (UTF-16 offsets).

        ``anonymous=True``: a group admin with "Remain anonymous" on writes as the group itself,
        as Telegram shows it: ``from`` is GroupAnonymousBot (1087968824), ``sender_chat`` the group.
        """
        user = self.user(user)
        where = self._where(user, chat)
        reply_id = self._reply_id(where, reply_to)
        ents = entities if entities is not None else command_entities(text)
        sender_id, extra = user.id, {}
        if anonymous:
            if where.is_private or where.members.get(user.id) not in ("administrator", "creator"):
                raise DriverError("only a group's admins can write anonymously")
            if ANONYMOUS_ADMIN_ID not in self.world.users:
                self.world.users[ANONYMOUS_ADMIN_ID] = EUser(
                    ANONYMOUS_ADMIN_ID, "Group", username="GroupAnonymousBot", is_bot=True)
            sender_id, extra = ANONYMOUS_ADMIN_ID, {"sender_chat": where.to_api()}
        msg = self.world.add_message(
            where, from_bot=False, sender_id=sender_id, text=text, html=text, entities=ents,
            reply_to_message_id=reply_id,
        )  # fmt: skip
        if extra:
            msg.extra.update(extra)
        return self._deliver(where, msg)

    def _reply_id(self, chat: EChat, reply_to: MessageRef | None) -> int | None:
        if reply_to is None:
            return None
        target = self.message(reply_to)
        if target.chat_id != chat.id:
            raise DriverError("reply_to is a message of another chat")
        return target.message_id

    def send_document(
        self,
        user: EUser,
        filename: str,
        content: bytes,
        chat: ChatRef | None = None,
        caption: str | None = None,
        mime_type: str | None = "application/octet-stream",
        reply_to: MessageRef | None = None,
    ) -> EMessage:
        user = self.user(user)
        where = self._where(user, chat)
        f = self.world.store_file(content, "document", filename, mime_type)
        doc = EDocument(filename, mime_type, content, f.file_id, f.file_unique_id)
        msg = self.world.add_message(
            where, from_bot=False, sender_id=user.id, document=doc, caption=caption,
            caption_html=caption, caption_entities=command_entities(caption or ""),
            reply_to_message_id=self._reply_id(where, reply_to),
        )  # fmt: skip
        return self._deliver(where, msg)

    def send_photo(
        self,
        user: EUser,
        content: bytes,
        chat: ChatRef | None = None,
        caption: str | None = None,
        reply_to: MessageRef | None = None,
    ) -> EMessage:
        user = self.user(user)
        where = self._where(user, chat)
        f = self.world.store_file(content, "photo", None, "image/jpeg")
        msg = self.world.add_message(
            where, from_bot=False, sender_id=user.id, photo=content, photo_file=f,
            caption=caption, caption_html=caption,
            caption_entities=command_entities(caption or ""),
            reply_to_message_id=self._reply_id(where, reply_to),
        )  # fmt: skip
        return self._deliver(where, msg)

    def edit_message(self, user: EUser, message: MessageRef, text: str) -> EMessage:
        """The person edits their own message: an edited_message update."""
        user = self.user(user)
        msg = self.message(message)
        if msg.sender_id != user.id or msg.from_bot:
            raise DriverError("people can only edit their own messages")
        if msg.deleted:
            raise DriverError("the message was deleted")
        msg.text, msg.html, msg.entities = text, text, command_entities(text)
        msg.edit_date = self.clock.now()
        return self._deliver(self.chat(msg.chat_id), msg, "edited_message")

    def delete_message(self, message: MessageRef) -> None:
        """The message disappears (a person or an admin deleted it); the bot is not told."""
        self.message(message).deleted = True
        self.world.changed()

    def press(
        self,
        user: EUser,
        message: MessageRef,
        label: str | None = None,
        data: str | None = None,
    ) -> ECallbackQuery:
        """Press the button with that label (or callback data) under a bot message."""
        if label is None and data is None:
            raise DriverError("press() needs label= or data=")
        msg = self.message(message)
        if msg.deleted:
            raise DriverError(f"message {msg.message_id} was deleted")
        button = msg.button(label, data)
        if button is None:
            labels = [b.text for row in msg.buttons for b in row]
            raise DriverError(
                f"no button {label or data!r} under message {msg.message_id}; it has {labels}"
            )
        if button.callback_data is None:
            raise DriverError(f"button {button.text!r} has no callback data (url={button.url})")
        return self._callback(self.user(user), msg.chat_id, msg.message_id, button.callback_data)

    def forge_callback(
        self, user: EUser, chat: ChatRef, message_id: int, data: str
    ) -> ECallbackQuery:
        """A callback query with any data, as a modified client can send."""
        return self._callback(self.user(user), self.chat(chat).id, int(message_id), data)

    def _callback(self, user: EUser, chat_id: int, message_id: int, data: str) -> ECallbackQuery:
        w = self.world
        self._callback_ids += 1
        qid = str(4_000_000_000_000_000_000 + self._callback_ids * 7919)
        q = ECallbackQuery(qid, user.id, chat_id, message_id, data, self.clock.now())
        w.callbacks[qid] = q
        msg = w.get_message(chat_id, message_id)
        message: dict[str, Any]
        if msg is not None:
            message = w.message_api(msg)
        else:
            message = {"chat": self.chat(chat_id).to_api(), "message_id": message_id, "date": 0}
        w.emit("callback_query", {
            "id": qid, "from": user.to_api(), "message": message,
            "chat_instance": str(abs(chat_id) * 31 + 17), "data": data,
        })  # fmt: skip
        w.changed()
        return q

    def vote(self, user: EUser, message: MessageRef, option_ids: list[int]) -> None:
        """Vote (or retract with ``[]``); refused (DriverError) once the poll is closed."""
        user = self.user(user)
        msg = self.message(message)
        poll = msg.poll
        if poll is None:
            raise DriverError(f"message {msg.message_id} is not a poll")
        self.world.tick()
        if poll.is_closed:
            raise DriverError("the poll is closed")
        ids = [int(i) for i in option_ids]
        if any(not 0 <= i < len(poll.options) for i in ids):
            raise DriverError(f"option ids {ids} out of range")
        if len(ids) > 1 and not poll.allows_multiple_answers:
            raise DriverError("this poll allows one answer")
        if ids:
            poll.votes[user.id] = ids
        else:
            poll.votes.pop(user.id, None)
        if msg.from_bot:
            if not poll.is_anonymous:
                self.world.emit("poll_answer", {
                    "poll_id": poll.id, "user": user.to_api(), "option_ids": ids,
                    "option_persistent_ids": [poll.persistent_id(i) for i in ids],
                })  # fmt: skip
            self.world.emit("poll", poll.to_api())
        self.world.changed()

    # -- reading -----------------------------------------------------------------------------
    def transcript(self, chat: ChatRef) -> list[EMessage]:
        return list(self.world.transcripts.get(self.chat(chat).id, []))

    def bot_messages(self, chat: ChatRef) -> list[EMessage]:
        return [m for m in self.transcript(chat) if m.from_bot and not m.deleted]

    def unanswered_callbacks(self) -> list[ECallbackQuery]:
        return self.world.unanswered_callbacks()

    def metrics(self) -> dict[str, Any]:
        return self.api.metrics.snapshot(dict(self.faults.injected))

    # -- waiting -----------------------------------------------------------------------------
    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented API
        what: str | None = None,
    ) -> Any:
        """Re-check ``predicate`` on every state change; its first truthy value is returned."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                desc = what or getattr(predicate, "__qualname__", repr(predicate))
                raise TimeoutError(
                    f"emulator: waited {timeout:g}s for {desc}; "
                    f"last requests: {[(r.method, r.status, r.error) for r in self.requests[-5:]]}"
                )
            await self.world.wait_changed(min(remaining, 0.5))

    async def wait_for_bot_message(
        self,
        chat: ChatRef,
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented API
        after: EMessage | None = None,
    ) -> EMessage:
        """The first bot message in ``chat`` after ``after`` (default: after the newest message
        a person sent there), waiting for it if needed."""
        chat = self.chat(chat)
        if after is not None:
            floor = after.message_id
        else:
            people = [
                m.message_id for m in self.world.transcripts.get(chat.id, []) if not m.from_bot
            ]
            floor = max(people, default=0)

        def first() -> EMessage | None:
            for m in self.world.transcripts.get(chat.id, []):
                if m.from_bot and not m.deleted and m.message_id > floor:
                    return m
            return None

        return await self.wait_for(
            first, timeout, what=f"a bot message in chat {chat.id} after message {floor}"
        )


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities for every ``/command[@bot]`` that starts a word (UTF-16 offsets)."""
    out: list[dict[str, Any]] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i] == "/" and (i == 0 or text[i - 1].isspace()):
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_@"):
                j += 1
            if j > i + 1:
                out.append({
                    "type": "bot_command",
                    "offset": utf16_len(text[:i]),
                    "length": utf16_len(text[i:j]),
                })  # fmt: skip
            i = j
        else:
            i += 1
    return out

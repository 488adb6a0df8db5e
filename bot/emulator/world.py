"""The emulated world: users, chats, members, messages, polls, callback queries, files, updates.

Plain objects in plain dicts, because a benchmark pushes 1,000+ requests a second through it.
The world knows nothing about HTTP: the methods (``methods.py``) and the driver (``driver.py``)
change it, and every change calls ``changed()`` so that waiters (``Emulator.wait_for``, long polls,
the webhook sender) wake at once.
"""

from __future__ import annotations

import asyncio
import itertools
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.clock import Clock

PRIVATE = "private"
GROUP = "group"
SUPERGROUP = "supergroup"

# Telegram's default when allowed_updates is empty or never given.
ALL_UPDATES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages",
    "message_reaction", "message_reaction_count", "inline_query", "chosen_inline_result",
    "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll",
    "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
    "removed_chat_boost",
)  # fmt: skip
DEFAULT_UPDATES = frozenset(ALL_UPDATES) - {
    "chat_member", "message_reaction", "message_reaction_count",
}  # fmt: skip

CALLBACK_LIFETIME = 15.0  # emulated seconds a callback query may be answered in
DELETE_WINDOW = 48 * 3600.0  # emulated seconds a message may be deleted in


@dataclass(eq=False)
class EUser:
    """A Telegram user (or the bot itself)."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    @property
    def full_name(self) -> str:
        """As Telegram clients (and python-telegram-bot's `User.full_name`) show it."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_api(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d


@dataclass(eq=False)
class EChat:
    """A private chat, group or supergroup.

    ``bot_status`` is the bot's own membership ("member", "administrator", "left", "kicked"); in a
    private chat ``started`` says the user wrote to the bot and ``blocked`` that they blocked it.
    """

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    bot_status: str = "left"
    was_member: bool = False
    started: bool = False
    blocked: bool = False
    migrated_to: int | None = None
    migrated_from: int | None = None
    next_message_id: int = 1

    @property
    def is_private(self) -> bool:
        return self.type == PRIVATE

    @property
    def bot_in(self) -> bool:
        return self.bot_status in ("member", "administrator")

    @property
    def bot_admin(self) -> bool:
        return self.bot_status == "administrator"

    def to_api(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == PRIVATE:
            d["first_name"] = self.first_name or ""
            if self.last_name:
                d["last_name"] = self.last_name
        else:
            d["title"] = self.title or ""
        if self.username:
            d["username"] = self.username
        return d


@dataclass
class EButton:
    """One inline keyboard button."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(eq=False)
class EFile:
    """A stored file: the bytes stay in memory and are served at /file/bot<token>/<file_path>."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    filename: str | None = None
    mime_type: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(eq=False)
class EDocument:
    """A document in a message (``content`` holds the bytes)."""

    filename: str | None
    mime_type: str | None
    content: bytes
    file_id: str
    file_unique_id: str

    def to_api(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
        }
        if self.filename:
            d["file_name"] = self.filename
        if self.mime_type:
            d["mime_type"] = self.mime_type
        return d


@dataclass(eq=False)
class EPoll:
    """A native poll with its votes (user id -> option ids)."""

    id: str
    question: str
    options: list[str]
    chat_id: int
    message_id: int
    is_anonymous: bool = True
    type: str = "regular"
    allows_multiple_answers: bool = False
    correct_option_id: int | None = None
    explanation: str | None = None
    open_period: int | None = None
    close_date: float | None = None
    is_closed: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)

    def persistent_id(self, option: int) -> str:
        """A stable id for an option (Bot API 9.6+ requires one)."""
        return f"{self.id}:{option}"

    def counts(self) -> list[int]:
        counts = [0] * len(self.options)
        for option_ids in self.votes.values():
            for i in option_ids:
                counts[i] += 1
        return counts

    def to_api(self) -> dict[str, Any]:
        counts = self.counts()
        d: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "options": [
                {"persistent_id": self.persistent_id(i), "text": t, "voter_count": c}
                for i, (t, c) in enumerate(zip(self.options, counts, strict=True))
            ],
            "total_voter_count": sum(1 for v in self.votes.values() if v),
            "is_closed": self.is_closed,
            "is_anonymous": self.is_anonymous,
            "type": self.type,
            "allows_multiple_answers": self.allows_multiple_answers,
            "allows_revoting": self.type != "quiz",
            "members_only": False,
        }
        if self.correct_option_id is not None:
            d["correct_option_id"] = self.correct_option_id
        if self.explanation:
            d["explanation"] = self.explanation
        if self.open_period is not None:
            d["open_period"] = self.open_period
        if self.close_date is not None:
            d["close_date"] = int(self.close_date)
        return d


@dataclass(eq=False)
class EMessage:
    """One message in a chat's transcript, as tests read it.

    ``text`` is the plain text after entity parsing, ``html`` the raw text as the bot sent it
    (with ``parse_mode``); for media the caption is in ``caption`` / ``caption_html``.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    sender_id: int | None
    date: float
    text: str | None = None
    html: str | None = None
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_html: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[list[EButton]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    edit_date: float | None = None
    deleted: bool = False
    protect_content: bool = False
    reply_to_message_id: int | None = None
    document: EDocument | None = None
    photo: bytes | None = None
    photo_file: EFile | None = None
    poll: EPoll | None = None
    service: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    not_emulated: str | None = None  # the method, for a send answered but not emulated

    def button(self, label: str | None = None, data: str | None = None) -> EButton | None:
        """The first button with that label or callback data."""
        for row in self.buttons:
            for b in row:
                if (label is not None and b.text == label) or (
                    data is not None and b.callback_data == data
                ):
                    return b
        return None

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else f"user {self.sender_id}"
        body = self.text if self.text is not None else (self.service or self.caption or "")
        flag = " deleted" if self.deleted else ""
        return f"<EMessage {self.chat_id}/{self.message_id} {who}{flag}: {body!r:.80}>"


@dataclass(eq=False)
class ECallbackQuery:
    """A button press: answered at most once, within 15 emulated seconds."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    created_at: float
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False


@dataclass
class WebhookState:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    ip_address: str = "127.0.0.1"


class World:
    """All emulated state plus the update queue, with change notification."""

    def __init__(self, clock: Clock, bot_user: EUser, privacy_mode: bool = True) -> None:
        self.clock = clock
        self.bot_user = bot_user
        self.privacy_mode = privacy_mode
        self.users: dict[int, EUser] = {bot_user.id: bot_user}
        self.chats: dict[int, EChat] = {}
        self.transcripts: dict[int, list[EMessage]] = {}
        self.messages: dict[tuple[int, int], EMessage] = {}
        self.polls: dict[str, EPoll] = {}
        self._timed_polls: dict[str, EPoll] = {}
        self.callbacks: dict[str, ECallbackQuery] = {}
        self.callback_answers: list[tuple[str, str | None, bool]] = []
        # Every "can't parse entities" Telegram answered: a message the bot built with a raw '<'
        # or '&' in it (a member's name, say) that nobody received. Tests assert there is none.
        self.parse_errors: list[str] = []
        self.wasted_requests: list[str] = []  # "message is not modified", "query is too old"
        self.files: dict[str, EFile] = {}
        self.files_by_path: dict[str, EFile] = {}
        self.file_by_unique: dict[str, EFile] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.updates: deque[tuple[int, str, dict[str, Any]]] = deque()
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATES
        self.allowed_updates_list: list[str] | None = None
        self.webhook = WebhookState()
        self._next_update_id = 100_000_001
        self._ids = itertools.count(1)
        self._user_ids = itertools.count(6_100_000_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._super_ids = itertools.count(1_001_000_000_001)
        self._waiters: set[asyncio.Future[None]] = set()
        self.version = 0
        self._listeners: list[Callable[[], None]] = []
        clock.on_change(self.tick)

    # -- change notification -------------------------------------------------------------------
    def changed(self) -> None:
        """Wake every waiter: something in the world (or the clock) changed."""
        self.version += 1
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()
        for listener in self._listeners:
            listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    async def wait_changed(self, timeout: float | None) -> bool:  # noqa: ASYNC109
        """Wait for the next ``changed()``; False on timeout."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(fut)
        return True

    def new_id(self) -> int:
        return next(self._ids)

    # -- users and chats -----------------------------------------------------------------------
    def add_user(
        self,
        first_name: str,
        username: str | None = None,
        user_id: int | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> EUser:
        uid = int(user_id) if user_id is not None else next(self._user_ids)
        if uid in self.users:
            raise ValueError(f"user id {uid} already exists")
        user = EUser(uid, first_name, username, last_name, language_code)
        self.users[uid] = user
        return user

    def private_chat(self, user: EUser) -> EChat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = EChat(
                id=user.id,
                type=PRIVATE,
                username=user.username,
                first_name=user.first_name,
                last_name=user.last_name,
                members={user.id: "member"},
            )
            self.chats[chat.id] = chat
            self.transcripts[chat.id] = []
        return chat

    def add_group(self, title: str, supergroup: bool = False, username: str | None = None) -> EChat:
        cid = -next(self._super_ids) if supergroup else -next(self._group_ids)
        chat = EChat(
            id=cid, type=SUPERGROUP if supergroup else GROUP, title=title, username=username
        )
        self.chats[cid] = chat
        self.transcripts[cid] = []
        return chat

    def new_supergroup_id(self) -> int:
        return -next(self._super_ids)

    def chat_by_username(self, username: str) -> EChat | None:
        name = username.lstrip("@").lower()
        for chat in self.chats.values():
            if chat.username and chat.username.lower() == name and chat.type != PRIVATE:
                return chat
        return None

    def member_api(self, chat: EChat, user: EUser, status: str | None = None) -> dict[str, Any]:
        """A ChatMember object for ``user`` in ``chat`` (``status`` overrides the stored one)."""
        if status is None:
            if user.id == self.bot_user.id:
                status = chat.bot_status
            else:
                status = chat.members.get(user.id, "left")
        return member_dict(status, user)

    # -- messages ------------------------------------------------------------------------------
    def add_message(
        self, chat: EChat, *, from_bot: bool, sender_id: int | None, **fields: Any
    ) -> EMessage:
        """Append a message to the chat's transcript with the next per-chat id and now's date."""
        msg = EMessage(
            message_id=chat.next_message_id,
            chat_id=chat.id,
            from_bot=from_bot,
            sender_id=self.bot_user.id if from_bot else sender_id,
            date=self.clock.now(),
            **fields,
        )
        chat.next_message_id += 1
        self.transcripts.setdefault(chat.id, []).append(msg)
        self.messages[(chat.id, msg.message_id)] = msg
        return msg

    def get_message(self, chat_id: int, message_id: int) -> EMessage | None:
        msg = self.messages.get((chat_id, message_id))
        if msg is None or msg.deleted:
            return None
        return msg

    def message_api(self, m: EMessage, with_reply: bool = True) -> dict[str, Any]:
        """The Bot API ``Message`` object for ``m``."""
        chat = self.chats[m.chat_id]
        d: dict[str, Any] = {"message_id": m.message_id}
        sender = self.users.get(m.sender_id) if m.sender_id is not None else None
        if sender is not None:
            d["from"] = sender.to_api()
        d["date"] = int(m.date)
        d["chat"] = chat.to_api()
        if m.reply_to_message_id is not None and with_reply:
            target = self.messages.get((m.chat_id, m.reply_to_message_id))
            if target is not None and not target.deleted:
                d["reply_to_message"] = self.message_api(target, with_reply=False)
        if m.edit_date is not None:
            d["edit_date"] = int(m.edit_date)
        if m.protect_content:
            d["has_protected_content"] = True
        if m.text is not None:
            d["text"] = m.text
            if m.entities:
                d["entities"] = m.entities
        if m.document is not None:
            d["document"] = m.document.to_api()
        if m.photo_file is not None:
            d["photo"] = [photo_size(m.photo_file)]
        if m.poll is not None:
            d["poll"] = m.poll.to_api()
        if m.caption is not None:
            d["caption"] = m.caption
            if m.caption_entities:
                d["caption_entities"] = m.caption_entities
        if m.extra:
            d.update(m.extra)
        if m.reply_markup is not None:
            d["reply_markup"] = m.reply_markup
        return d

    # -- files ---------------------------------------------------------------------------------
    def store_file(
        self, content: bytes, kind: str, filename: str | None = None, mime_type: str | None = None
    ) -> EFile:
        n = self.new_id()
        prefix = {"document": "BQACAgIAAxkBAA", "photo": "AgACAgIAAxkBAA"}.get(
            kind, "CQACAgIAAxkBAA"
        )
        ext = ""
        if filename and "." in filename:
            ext = filename.rsplit(".", 1)[1][:8]
        elif kind == "photo":
            ext = "jpg"
        path = f"{kind}s/file_{n}" + (f".{ext}" if ext else "")
        f = EFile(
            file_id=f"{prefix}{n:08d}",
            file_unique_id=f"AgAD{n:08d}",
            file_path=path,
            content=content,
            filename=filename,
            mime_type=mime_type,
        )
        self.files[f.file_id] = f
        self.files_by_path[f.file_path] = f
        self.file_by_unique[f.file_unique_id] = f
        return f

    # -- updates -------------------------------------------------------------------------------
    def emit(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update if the bot asked for that kind (Telegram filters at creation)."""
        if kind not in self.allowed_updates:
            return None
        uid = self._next_update_id
        self._next_update_id += 1
        self.updates.append((uid, kind, payload))
        self.changed()
        return uid

    def confirm(self, offset: int) -> None:
        """getUpdates' ``offset``: forget every update with a smaller id."""
        q = self.updates
        if offset < 0:
            keep = -offset
            while len(q) > keep:
                q.popleft()
            return
        while q and q[0][0] < offset:
            q.popleft()

    def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        out = []
        for uid, kind, payload in itertools.islice(self.updates, limit):
            out.append({"update_id": uid, kind: payload})
        return out

    def set_allowed_updates(self, allowed: list[str] | None) -> None:
        """Remembered as Telegram does: ``None`` keeps the previous setting, ``[]`` = default."""
        if allowed is None:
            return
        self.allowed_updates_list = list(allowed)
        self.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATES

    # -- privacy mode --------------------------------------------------------------------------
    def bot_receives(self, chat: EChat, msg: EMessage) -> bool:
        """Whether a person's message in ``chat`` reaches the bot (privacy mode, as Telegram)."""
        if chat.is_private:
            return chat.started and not chat.blocked
        if not chat.bot_in:
            return False
        if not self.privacy_mode or chat.bot_admin or msg.service is not None:
            return True
        if msg.reply_to_message_id is not None:
            target = self.messages.get((chat.id, msg.reply_to_message_id))
            if target is not None and target.from_bot:
                return True
        text = msg.text if msg.text is not None else msg.caption
        if text and text.startswith("/"):
            token = text.split(maxsplit=1)[0] if text.strip() else ""
            if "@" not in token:
                return len(token) > 1
            name = token.split("@", 1)[1]
            return name.lower() == (self.bot_user.username or "").lower()
        return False

    # -- polls and callbacks -------------------------------------------------------------------
    def add_poll(self, poll: EPoll) -> None:
        self.polls[poll.id] = poll
        if poll.close_date is not None:
            self._timed_polls[poll.id] = poll

    def close_poll(self, poll: EPoll) -> None:
        poll.is_closed = True
        self._timed_polls.pop(poll.id, None)
        self.emit("poll", poll.to_api())
        self.changed()

    def tick(self) -> None:
        """Do what became due on the clock (poll closings); wake waiters on clock moves."""
        if self._timed_polls:
            now = self.clock.now()
            for poll in list(self._timed_polls.values()):
                if poll.close_date is not None and poll.close_date <= now and not poll.is_closed:
                    self.close_poll(poll)
        self.changed()

    def next_due(self) -> float | None:
        """The emulated time of the next poll closing, if any."""
        dates = [p.close_date for p in self._timed_polls.values() if p.close_date is not None]
        return min(dates) if dates else None

    def unanswered_callbacks(self) -> list[ECallbackQuery]:
        return [q for q in self.callbacks.values() if not q.answered]


def member_dict(status: str, user: EUser) -> dict[str, Any]:
    """A ChatMember of ``status`` with every field PTB requires for it."""
    d: dict[str, Any] = {"status": status, "user": user.to_api()}
    if status == "creator":
        d["is_anonymous"] = False
    elif status == "administrator":
        d.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_pin_messages=True,
        )
    elif status == "kicked":
        d["until_date"] = 0
    return d


def image_size(content: bytes) -> tuple[int, int]:
    """Width and height of a PNG, GIF or JPEG (no imaging library needed); (1, 1) if unknown."""
    try:
        if content[:8] == b"\x89PNG\r\n\x1a\n":
            w, h = struct.unpack(">II", content[16:24])
            return int(w), int(h)
        if content[:6] in (b"GIF87a", b"GIF89a"):
            w, h = struct.unpack("<HH", content[6:10])
            return int(w), int(h)
        if content[:2] == b"\xff\xd8":
            i = 2
            while i + 9 < len(content):
                if content[i] != 0xFF:
                    i += 1
                    continue
                marker = content[i + 1]
                seg = struct.unpack(">H", content[i + 2 : i + 4])[0]
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    h, w = struct.unpack(">HH", content[i + 5 : i + 9])
                    return int(w), int(h)
                i += 2 + seg
    except struct.error:
        pass
    return 1, 1


def photo_size(f: EFile) -> dict[str, Any]:
    w, h = image_size(f.content)
    return {
        "file_id": f.file_id,
        "file_unique_id": f.file_unique_id,
        "file_size": f.size,
        "width": w,
        "height": h,
    }

"""The sandbox's world: the emulator, the real bot on a fresh database, the sample coalition,
and what a person at the console does (speak as someone, press, look, move the clock).

Why in-process: one asyncio loop runs the emulator, the bot and the console, so moving the clock
moves both at once (the bot's clock follows the emulator's) and nothing needs a network.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.app import BotService
from bot.clock import CallableClock
from bot.config import load_settings
from bot.emulator import DriverError, Emulator
from bot.numbers import whole_number
from bot.sandbox import seed as sample_seed

log = logging.getLogger(__name__)
TOKEN = "123456789:AASandboxTokenForTheCoalitionBot001"  # noqa: S105 - the emulator's, not Telegram's
DURATION = re.compile(r"(\d+)\s*([dhms])")
UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> int | None:
    """`2h`, `30m`, `1h30m`, `3d`, `90s` -> seconds; None when it is not a duration."""
    cleaned = text.replace(" ", "").lower()
    parts = DURATION.findall(cleaned)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != cleaned:
        return None
    return sum(int(n) * UNITS[u] for n, u in parts)


@dataclass
class Shown:
    """A message as last printed, to print it again only when it changed."""

    text: str
    buttons: tuple[str, ...]
    deleted: bool


@dataclass
class Line:
    """One printed line and its style (for colours): bot, button, note, error, person."""

    style: str
    text: str


@dataclass
class Sandbox:
    emu: Emulator
    service: BotService
    sample: sample_seed.Sample
    folder: tempfile.TemporaryDirectory[str]
    me: Any = None
    here: Any = None
    buttons: list[tuple[Any, str]] = field(default_factory=list)
    shown: dict[tuple[int, int], Shown] = field(default_factory=dict)

    # -- names --------------------------------------------------------------------------------

    def chat_name(self, chat: Any) -> str:
        for title, group in self.sample.chats.items():
            if group.id == chat.id:
                return title
        for name, person in self.sample.people.items():
            if person.id == chat.id:
                return f"{name} (private)"
        return str(chat.id)

    def person_named(self, text: str) -> Any | None:
        names = list(self.sample.people)
        number = whole_number(text)
        if number is not None and 1 <= number <= len(names):
            return self.sample.people[names[number - 1]]
        matches = [p for n, p in self.sample.people.items() if n.lower().startswith(text.lower())]
        return matches[0] if len(matches) == 1 else None

    def chat_named(self, text: str) -> Any | None:
        if text.lower() in ("private", "privado", ""):
            return self.emu.private_chat(self.me)
        titles = list(self.sample.chats)
        number = whole_number(text)
        if number is not None and 1 <= number <= len(titles):
            return self.sample.chats[titles[number - 1]]
        matches = [c for t, c in self.sample.chats.items() if t.lower().startswith(text.lower())]
        if len(matches) == 1:
            return matches[0]
        person = self.person_named(text)
        return self.emu.private_chat(person) if person is not None else None

    def who(self) -> list[Line]:
        lines = [Line("note", "people (/as NAME or number):")]
        for n, (name, person) in enumerate(self.sample.people.items(), 1):
            org = next((o for o, *_ in sample_seed.ORGS if _[0] == name), None)
            role = ("coordinator" if name == sample_seed.COORDINATOR else
                    "stranger" if name == sample_seed.STRANGER else f"contact of {org}")
            lines.append(Line("note", f"  {n:>2}. {name} ({role}, {person.language_code})"))
        lines.append(Line("note", "groups (/in NAME or number; /in private):"))
        for n, title in enumerate(self.sample.chats, 1):
            lines.append(Line("note", f"  {n:>2}. {title}"))
        return lines

    # -- acting -------------------------------------------------------------------------------

    async def settle(self, quiet: float = 0.25, limit: float = 15.0) -> None:
        """Wait until the bot has stopped talking (no request for `quiet` seconds)."""
        deadline = time.monotonic() + limit
        seen, since = len(self.emu.requests), time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            now_seen = len(self.emu.requests)
            if now_seen != seen:
                seen, since = now_seen, time.monotonic()
            elif time.monotonic() - since >= quiet and not await self._busy():
                return

    async def _busy(self) -> bool:
        """Updates not yet confirmed or handled, or copies still to send: the bot is working."""
        if self.emu.world.updates:
            return True
        async with self.service.db.reader() as session:
            return bool((await session.execute(text(
                "SELECT (SELECT count(*) FROM saved_updates WHERE status != 'done') + "
                "(SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')) + "
                "(SELECT count(*) FROM scheduled_tasks WHERE status = 'running' OR "
                " (status = 'pending' AND due_at <= :now))"),
                {"now": self.service.clock.now()})).scalar())

    async def say(self, text: str) -> list[Line]:
        group = None if self.here.id == self.me.id else self.here
        self.emu.send(self.me, text, chat=group)
        await self.settle()
        return self.news()

    async def press(self, number: int) -> list[Line]:
        if not 1 <= number <= len(self.buttons):
            return [Line("error", f"no button {number}: the last message showed "
                                  f"{len(self.buttons)}")]
        message, label = self.buttons[number - 1]
        answers = len(self.emu.callback_answers)
        try:
            self.emu.press(self.me, self.emu.message(message), label=label)
        except DriverError as exc:
            return [Line("error", f"cannot press that: {exc}")]
        await self.settle()
        lines = [Line("note", f"(answer: {text})") for _, text, _ in
                 self.emu.callback_answers[answers:] if text]
        return lines + self.news()

    async def vote(self, options: list[int]) -> list[Line]:
        """Vote in the newest poll of the current chat (options numbered from 1; none retracts)."""
        poll = next((m for m in reversed(self.emu.bot_messages(self.here)) if m.poll), None)
        if poll is None:
            return [Line("error", f"no poll in {self.chat_name(self.here)}")]
        try:
            self.emu.vote(self.me, poll, [n - 1 for n in options])
        except DriverError as exc:
            return [Line("error", f"cannot vote: {exc}")]
        await self.settle()
        return [Line("note", "(voted)" if options else "(vote retracted)"), *self.news()]

    def me_chat(self) -> Any:
        return self.emu.private_chat(self.me)

    async def wait(self, seconds: int) -> list[Line]:
        self.emu.clock.advance(seconds)
        await self.settle(quiet=0.8)
        now = time.strftime("%Y-%m-%d %H:%M", time.gmtime(self.emu.clock.now()))
        moved = f"{seconds // 3600} h {seconds % 3600 // 60} min"
        return [Line("note", f"(the clock moved {moved}; now {now} UTC)"), *self.news()]

    # -- reading ------------------------------------------------------------------------------

    def render(self, message: Any, edited: bool) -> list[Line]:
        lines = []
        who = "bot" if message.from_bot else str(message.sender_id)
        head = "✎ " if edited else ""
        if message.deleted:
            return [Line("note", f"(the bot deleted a message: {message.text[:40]!r})")]
        body = message.text or message.caption or ""
        if message.poll is not None:
            body = "📊 " + message.poll.question + "\n" + "\n".join(
                f"   ○ {o}" for o in (message.poll.options or []))
        if message.document is not None:
            body = (body + "\n" if body else "") + f"📎 {message.document.filename}"
        if message.photo is not None:
            body = (body + "\n" if body else "") + "🖼 (a picture)"
        for n, line in enumerate(body.splitlines() or [""]):
            prefix = f"{head}{who} ▸ " if n == 0 else "      "
            lines.append(Line("bot" if message.from_bot else "person", prefix + line))
        for row in message.buttons or []:
            labels = []
            for button in row:
                if button.callback_data is None:
                    labels.append(f"[↗ {button.text}]")
                    continue
                self.buttons.append((message, button.text))
                labels.append(f"[{len(self.buttons)}] {button.text}")
            lines.append(Line("button", "      " + "   ".join(labels)))
        return lines

    def news(self) -> list[Line]:
        """New or changed bot messages here, and a note of where else the bot wrote."""
        self.buttons = []
        lines: list[Line] = []
        elsewhere: dict[str, int] = {}
        for chat in self._all_chats():
            for message in self.emu.transcript(chat):
                if not message.from_bot:
                    continue
                key = (chat.id, message.message_id)
                now = Shown(message.text or message.caption or "",
                            tuple(b.text for row in (message.buttons or []) for b in row),
                            bool(message.deleted))
                before = self.shown.get(key)
                if before == now:
                    continue
                self.shown[key] = now
                if chat.id == self.here.id:
                    lines += self.render(message, edited=before is not None)
                else:
                    name = self.chat_name(chat)
                    elsewhere[name] = elsewhere.get(name, 0) + 1
        if elsewhere:
            lines.append(Line("note", "(also: " + ", ".join(
                f"{n} new in {name}" for name, n in sorted(elsewhere.items()))
                + " — /look NAME)"))
        return lines

    def look(self, chat: Any, last: int = 12) -> list[Line]:
        self.buttons = []
        messages = [m for m in self.emu.transcript(chat) if not m.service][-last:]
        lines = [Line("note", f"── {self.chat_name(chat)}: the last {len(messages)} messages ──")]
        for message in messages:
            if message.from_bot:
                lines += self.render(message, edited=False)
            else:
                sender = next((n for n, p in self.sample.people.items()
                               if p.id == message.sender_id), str(message.sender_id))
                lines.append(Line("person", f"{sender} ▸ {message.text}"))
        return lines

    def _all_chats(self) -> list[Any]:
        return [*(self.emu.private_chat(p) for p in self.sample.people.values()),
                *self.sample.chats.values()]

    def mark_all_seen(self) -> None:
        self.buttons = []
        for chat in self._all_chats():
            for message in self.emu.transcript(chat):
                if message.from_bot:
                    self.shown[(chat.id, message.message_id)] = Shown(
                        message.text or message.caption or "",
                        tuple(b.text for row in (message.buttons or []) for b in row),
                        bool(message.deleted))

    async def stop(self) -> None:
        await self.service.stop()
        await self.emu.stop()
        self.folder.cleanup()


async def start_sandbox(database_url: str | None = None) -> Sandbox:
    """The emulator, a fresh database with the sample coalition, and the bot, running."""
    folder = tempfile.TemporaryDirectory(prefix="coalition-sandbox-")
    url = database_url or f"sqlite+aiosqlite:///{Path(folder.name) / 'sandbox.db'}"
    emu = Emulator(token=TOKEN, bot_username="coalition_sandbox_bot")
    await emu.start()
    sample = sample_seed.people_first(emu)
    settings = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, telegram_api_base_url=emu.base_url,
        database_url=url, coordinator_ids=(sample.people[sample_seed.COORDINATOR].id,),
        sweep_interval=0.2, poll_timeout=1, webhook_url=None, clock_url=None)
    service = BotService(settings, clock=CallableClock(emu.clock.now,
                                                       scale=lambda: emu.clock.scale))
    await service.start()
    emu.clock.on_change(service.sweep_soon)  # after a /wait, what fell due runs at once
    await sample_seed.seed(emu, service, sample)
    box = Sandbox(emu=emu, service=service, sample=sample, folder=folder)
    box.me = sample.people[sample_seed.COORDINATOR]
    box.here = emu.private_chat(box.me)
    await box.settle()
    box.mark_all_seen()
    return box

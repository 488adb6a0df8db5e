"""Building audiences in the emulator and fan-outs in the outbox, for the delivery tests."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.app import BotService
from bot.delivery import outbox
from bot.emulator import EChat, Emulator
from tests.helpers import eventually


@dataclass
class Audience:
    private: list[EChat]
    groups: list[EChat]

    @property
    def chats(self) -> list[EChat]:
        return [*self.private, *self.groups]


def make_audience(emu: Emulator, private: int, groups: int, prefix: str = "m") -> Audience:
    """People who opened a private chat with the bot, and groups the bot was added to."""
    people = []
    for i in range(private):
        user = emu.add_user(f"{prefix}{i}")
        emu.private_chat(user).started = True
        people.append(emu.private_chat(user))
    rooms = []
    admin = emu.add_user(f"{prefix}-admin")
    for i in range(groups):
        group = emu.add_group(f"{prefix} group {i}", members=[admin], admins=[admin])
        group.bot_status = "member"
        rooms.append(group)
    return Audience(people, rooms)


async def fan_out(service: BotService, key: str, chats: list[int], text: str,
                  report_chat_id: int | None = None, **options: object) -> int:
    async with service.db.transaction() as session:
        fanout_id = await outbox.enqueue(
            session, key, "test", [outbox.Outgoing(chat_id=c, text=text, **options)  # type: ignore[arg-type]
                                   for c in chats],
            service.clock.now(), report_chat_id=report_chat_id)
    service.sender.wake()
    return fanout_id


async def status(service: BotService, fanout_id: int) -> outbox.FanoutStatus:
    async with service.db.sessions() as session:
        return await outbox.status(session, fanout_id)


async def finished(service: BotService, fanout_id: int, timeout: float = 60) -> outbox.FanoutStatus:
    async def done() -> outbox.FanoutStatus | None:
        current = await status(service, fanout_id)
        return current if current.done else None

    return await eventually(done, timeout=timeout, what=f"fan-out {fanout_id} finished")


def copies(emu: Emulator, chat_id: int, marker: str) -> int:
    """How many messages holding `marker` landed in the chat (deleted or not)."""
    return sum(1 for m in emu.transcript(chat_id)
               if m.from_bot and marker in (m.text or ""))


def copy_counts(emu: Emulator, chat_ids: list[int], marker: str) -> Counter[int]:
    return Counter({c: copies(emu, c, marker) for c in chat_ids})

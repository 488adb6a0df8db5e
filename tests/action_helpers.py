"""Helpers for the action tests: a coordinator, organisations with member chats in given time
zones, the composer answered as a coordinator would, actions made through the service (fast),
and moving the emulator's clock to a moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.db.models import Action, ActionRsvp, Chat, ScheduledTask
from bot.emulator import Emulator, EUser
from bot.services.actions import actions
from handlers.actions.copies import announcement_copy
from tests.alert_helpers import Org, add_org, ask, press, text_after, toggle
from tests.helpers import eventually

__all__ = ["Org", "add_org", "ask", "press", "text_after", "toggle"]

EN = {"skip": "Skip", "done": "Done", "kind": "Hearing", "audience": "All organisations",
      "invite": "It will invite", "announce": "Announce"}
ES = {"skip": "Omitir", "done": "Listo", "kind": "Audiencia",
      "audience": "Todas las organizaciones", "invite": "Invitará a", "announce": "Anunciar"}


# The action tests use fixed dates (January to March 2027, with the spring daylight-saving gaps
# of New York and Madrid), so each of their modules starts the emulator's clock here, before all
# of them, whatever today's date is (the `clock_start` fixture of tests/conftest.py).
CLOCK_START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def local(text: str, zone: str) -> datetime:
    """A wall-clock time in a zone, as an aware UTC datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def advance_to(emu: Emulator, moment: datetime, plus: float = 30) -> None:
    """Move the emulator's clock (and so the bot's) to `plus` seconds after `moment`."""
    gap = moment.timestamp() + plus - emu.clock.now()
    if gap > 0:
        emu.clock.advance(gap)


async def coordinator(emu: Emulator, language: str = "en") -> EUser:
    coord = emu.add_user("Coordinator", language_code=language)
    emu.private_chat(coord).started = True
    return coord


async def set_zone(bot: Any, chat_id: int, zone: str, language: str | None = None) -> None:
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        found = await session.get(Chat, chat_id)
        if found is None:
            session.add(Chat(id=chat_id, type="private" if chat_id > 0 else "group",
                             timezone=zone, language=language, active=True, created_at=now,
                             updated_at=now))
        else:
            await session.execute(update(Chat).where(Chat.id == chat_id).values(
                timezone=zone, **({"language": language} if language else {})))


async def make_action(bot: Any, title: str, starts_at: datetime, **values: Any) -> int:
    """An action announced through the service (no Telegram round trips)."""
    async with bot.db.transaction() as session:
        done = await actions.create(session, bot.clock.now(),
                                    announcement_copy(bot.settings.timezone),
                                    bot.settings.default_language, title=title,
                                    starts_at=starts_at, **values)
    assert done is not None
    bot.sender.wake()
    return done.action_id


async def rsvp(bot: Any, action_id: int, org_id: int, answer: str) -> None:
    async with bot.db.transaction() as session:
        await session.merge(ActionRsvp(action_id=action_id, org_id=org_id, answer=answer,
                                       answered_by=None, answered_at=bot.clock.now()))


async def reminder_rows(bot: Any, action_id: int | None = None) -> list[ScheduledTask]:
    async with bot.db.sessions() as session:
        query = select(ScheduledTask).where(ScheduledTask.kind == actions.REMIND_KIND)
        if action_id is not None:
            query = query.where(ScheduledTask.dedupe_key.like(
                f"{actions.REMIND_KIND}:{action_id}:%"))
        return list((await session.execute(query.order_by(ScheduledTask.id))).scalars())


async def action_row(bot: Any, action_id: int) -> Action:
    async with bot.db.sessions() as session:
        found = await session.get(Action, action_id)
        assert found is not None
        return found


async def last_action(bot: Any) -> Action | None:
    async with bot.db.sessions() as session:
        return (await session.execute(select(Action).order_by(Action.id.desc()).limit(1))
                ).scalars().first()


def bot_texts(emu: Emulator, chat: Any, marker: str) -> list[str]:
    return [m.text or "" for m in emu.transcript(chat) if m.from_bot and marker in (m.text or "")]


async def settled(bot: Any, what: str = "the reminders") -> None:
    """Wait until no reminder row is pending-and-due or running and the outbox is empty."""
    from bot.db.models import OutboxRow

    async def quiet() -> bool:
        now = bot.clock.now()
        async with bot.db.sessions() as session:
            busy = (await session.execute(select(ScheduledTask.id).where(
                ScheduledTask.kind == actions.REMIND_KIND,
                ((ScheduledTask.status == "pending") & (ScheduledTask.due_at <= now))
                | (ScheduledTask.status == "running")).limit(1))).scalar()
            sending = (await session.execute(select(OutboxRow.id).where(
                OutboxRow.state.in_(("queued", "sending"))).limit(1))).scalar()
        return busy is None and sending is None

    await eventually(quiet, timeout=30, what=what)


async def compose(emu: Emulator, coord: Any, *, title: str, when: str,
                  description: str | None = None, place: str | None = None,
                  kind: str | None = None, audience: str | None = None,
                  kinds: tuple[str, ...] = (), topics: tuple[str, ...] = (),
                  regions: str | None = None,
                  tries: tuple[str, ...] = (), words: dict[str, str] = EN
                  ) -> tuple[list[str], Any]:
    """Answer /action as the coordinator, first giving the `tries` as dates (each answered
    with a reason); returns (those answers' texts, the summary with Announce)."""
    m = await ask(emu, coord, "/action")
    m = await ask(emu, coord, title)
    m = await (ask(emu, coord, description) if description else press(emu, coord, m,
                                                                       words["skip"]))
    m = await press(emu, coord, m, kind or words["kind"])
    answered = []
    for attempt in tries:
        m = await ask(emu, coord, attempt)
        answered.append(m.text or "")
    m = await ask(emu, coord, when)
    m = await (ask(emu, coord, place) if place else press(emu, coord, m, words["skip"]))
    m = await press(emu, coord, m, audience or words["audience"])
    if kinds:
        for label in kinds:
            await toggle(emu, coord, m, label)
        m = await press(emu, coord, m, words["done"])
    for label in topics:
        await toggle(emu, coord, m, label)
    m = await press(emu, coord, m, words["done"])
    if regions:  # typed into the picker: what it finds is ticked, the question comes again
        m = await ask(emu, coord, regions)
    m = await press(emu, coord, m, words["done"])
    m = await press(emu, coord, m, words["done"])
    summary = await text_after(emu, emu.private_chat(coord), words["invite"], m.message_id)
    return answered, summary

"""Helpers for the alert tests: organisations with member chats in the emulator, the composer
answered as a coordinator would, and reading what was sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from bot.db.models import Alert, Chat, MemberChat, Organisation, OutboxRow, Person
from bot.emulator import EChat, Emulator, EUser
from tests.delivery_helpers import finished
from tests.helpers import eventually
from tests.org_helpers import make_org


@dataclass
class Org:
    id: int
    name: str
    contact: EUser
    groups: list[EChat] = field(default_factory=list)
    member: EUser | None = None  # a member of its groups who is not a contact

    @property
    def chat_ids(self) -> list[int]:
        return [g.id for g in self.groups]


async def add_org(emu: Emulator, bot: Any, name: str, *, groups: int = 1,
                  language: str = "es", group_language: str | None = None,
                  contact_language: str = "es", low_profile: bool = False,
                  alias: str | None = None, only_contacts: bool = False,
                  reachable: bool = True, **org: Any) -> Org:
    """An active organisation whose contact opened a private chat with the bot, with `groups`
    member chats the bot is in (written straight to the database, as /link would)."""
    contact = emu.add_user(f"{name} contact", language_code=contact_language)
    member = emu.add_user(f"{name} member", language_code=contact_language)
    if reachable:
        emu.private_chat(contact).started = True
    org_id = await make_org(bot, contact.id, name, language=language, **org)
    now = bot.clock.now()
    rooms = []
    async with bot.db.transaction() as session:
        session.add(Person(id=contact.id, language_code=contact_language, reachable=reachable,
                           started_at=now, updated_at=now))
        await session.execute(update(Organisation).where(Organisation.id == org_id).values(
            low_profile=low_profile, alias=alias, only_contacts_answer=only_contacts))
        for i in range(groups):
            group = emu.add_group(f"{name} group {i} <&>\u200f", members=[contact, member],
                                  admins=[contact])
            group.bot_status = "member"
            rooms.append(group)
            session.add(Chat(id=group.id, type="group", language=group_language, active=True,
                             created_at=now, updated_at=now))
            session.add(MemberChat(chat_id=group.id, org_id=org_id, active=True, public=False,
                                   linked_by=contact.id, linked_at=now))
    return Org(org_id, name, contact, rooms, member)


async def ask(emu: Emulator, user: Any, text: str) -> Any:
    sent = emu.send(user, text)
    return await emu.wait_for_bot_message(emu.private_chat(user), after=sent)


async def press(emu: Emulator, user: Any, message: Any, label: str) -> Any:
    """Press a button that answers with a new message in the same chat; return it."""
    chat = emu.chat(message.chat_id)
    emu.press(user, message, label=label)
    return await emu.wait_for_bot_message(chat, after=message)


async def toggle(emu: Emulator, user: Any, message: Any, label: str) -> None:
    def labels() -> list[str]:
        return [b.text for row in emu.message(message).buttons for b in row]

    before = labels()
    emu.press(user, message, label=label)
    await emu.wait_for(lambda: labels() != before, what=f"the keyboard after {label}")


async def text_after(emu: Emulator, chat: Any, needle: str, after_id: int,
                     timeout: float = 15) -> Any:
    def found() -> Any:
        return next((m for m in emu.bot_messages(chat)
                     if m.message_id > after_id and needle in (m.text or "")), None)

    return await emu.wait_for(found, timeout=timeout, what=f"a message with {needle!r}")


EN = {"done": "Done", "skip": "Skip", "reach": "It will reach", "received": "✅ Received"}
ES = {"done": "Listo", "skip": "Omitir", "reach": "Llegará a", "received": "✅ Recibido"}


async def compose(emu: Emulator, coord: Any, *, title: str, es: list[str] | None = None,
                  en: list[str] | None = None, severity: str = "Information",
                  topics: tuple[str, ...] = (), regions: tuple[str, ...] = (),
                  audience: str = "All organisations", kinds: tuple[str, ...] = (),
                  link: str | None = None, deadline: str | None = None,
                  asks: tuple[str, ...] | None = None, nudge: str | None = None,
                  words: dict[str, str] = EN, **statement: Any) -> tuple[Any, Any]:
    """Answer /alert as the coordinator; returns (preview message, summary with Send)."""
    m = await ask(emu, coord, "/alert")
    m = await ask(emu, coord, title)
    for part in es or []:
        m = await ask(emu, coord, part)
    m = await press(emu, coord, m, words["done"])
    for part in en or []:
        m = await ask(emu, coord, part)
    m = await press(emu, coord, m, words["done"])
    return await finish_compose(emu, coord, m, severity=severity, topics=topics,
                                regions=regions, audience=audience, kinds=kinds, link=link,
                                deadline=deadline, asks=asks, nudge=nudge, words=words,
                                **statement)


async def finish_compose(emu: Emulator, coord: Any, m: Any, *, severity: str = "Information",
                         topics: tuple[str, ...] = (), regions: tuple[str, ...] = (),
                         audience: str = "All organisations", kinds: tuple[str, ...] = (),
                         link: str | None = None, deadline: str | None = None,
                         asks: tuple[str, ...] | None = None, nudge: str | None = None,
                         words: dict[str, str] = EN, statement_es: list[str] | None = None,
                         statement_en: list[str] | None = None,
                         sign_deadline: str | None = None,
                         min_signatures: str | None = None) -> tuple[Any, Any]:
    """Answer the composer from its severity question (`m`) to the preview. With "We sign on"
    asked, the statement steps follow (Done right away: no statement)."""
    m = await press(emu, coord, m, severity)
    for label in topics:
        await toggle(emu, coord, m, label)
    m = await press(emu, coord, m, words["done"])
    for label in regions:
        await toggle(emu, coord, m, label)
    m = await press(emu, coord, m, words["done"])
    m = await press(emu, coord, m, audience)
    if kinds:
        for label in kinds:
            await toggle(emu, coord, m, label)
        m = await press(emu, coord, m, words["done"])
    m = await (ask(emu, coord, link) if link else press(emu, coord, m, words["skip"]))
    m = await (ask(emu, coord, deadline) if deadline else press(emu, coord, m, words["skip"]))
    if asks is not None:
        current = {b.text.removeprefix("✅ ") for row in m.buttons for b in row
                   if b.text.startswith("✅ ")}
        for label in set(asks) ^ current:
            await toggle(emu, coord, m, label)
    m = await press(emu, coord, m, words["done"])
    if asks is not None and ({"We sign on", "Nos sumamos"} & set(asks)):
        for parts in (statement_es, statement_en):
            for part in parts or []:
                m = await ask(emu, coord, part)
            m = await press(emu, coord, m, words["done"])
        if statement_es or statement_en:
            m = await (ask(emu, coord, sign_deadline) if sign_deadline
                       else press(emu, coord, m, words["skip"]))
            m = await (ask(emu, coord, min_signatures) if min_signatures
                       else press(emu, coord, m, words["skip"]))
    if nudge is not None:
        m = await press(emu, coord, m, nudge)
    summary = await text_after(emu, emu.private_chat(coord), words["reach"], m.message_id)
    return m, summary


async def send(emu: Emulator, bot: Any, coord: Any, summary: Any, label: str = "Send") -> Alert:
    """Press Send and wait until every copy has an answer from Telegram."""
    emu.press(coord, summary, label=label)
    alert = await eventually(lambda: last_alert(bot, sent=True), what="the alert sent")
    await finished(bot, alert.fanout_id, timeout=60)
    await progress_done(emu, coord, "(alert)")
    return alert


async def progress_done(emu: Emulator, coord: Any, purpose: str) -> Any:
    """Wait for the coordinator's progress message to show the end (so later replies are
    not mixed with it)."""

    def found() -> Any:
        return next((m for m in emu.bot_messages(emu.private_chat(coord))
                     if purpose in (m.text or "")
                     and (m.text or "").startswith(("Finished", "Terminado"))), None)

    return await emu.wait_for(found, timeout=20, what=f"the progress of {purpose} finished")


async def last_alert(bot: Any, sent: bool = False) -> Alert | None:
    async with bot.db.sessions() as session:
        query = select(Alert).order_by(Alert.id.desc()).limit(1)
        if sent:
            query = query.where(Alert.status == "sent", Alert.fanout_id.is_not(None))
        return (await session.execute(query)).scalars().first()


async def outbox_chats(bot: Any, fanout_id: int) -> dict[int, str]:
    async with bot.db.sessions() as session:
        rows = (await session.execute(select(OutboxRow.chat_id, OutboxRow.state)
                                      .where(OutboxRow.fanout_id == fanout_id))).all()
    return {int(c): s for c, s in rows}


def alert_copies(emu: Emulator, chat: Any, marker: str) -> list[Any]:
    return [m for m in emu.transcript(chat) if m.from_bot and marker in (m.text or "")]


def everything_read(emu: Emulator, chats: list[Any]) -> str:
    """All text every listed chat received (texts and button labels), for privacy checks."""
    parts = []
    for chat in chats:
        for m in emu.transcript(chat):
            parts.append(m.text or "")
            parts.append(m.caption or "")
            parts += [b.text for row in m.buttons for b in row]
    return "\n".join(parts)

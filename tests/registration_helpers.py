"""Helpers for the registration and invitation tests: answer the flow as a person would."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.db.models import AuditEntry, Contact, Conversation, Invitation, Organisation
from bot.emulator import Emulator


async def ask(emu: Emulator, user: Any, text: str, chat: Any = None) -> Any:
    sent = emu.send(user, text, chat=chat)
    return await emu.wait_for_bot_message(chat or emu.private_chat(user), after=sent)


async def press(emu: Emulator, user: Any, message: Any, label: str, chat: Any = None) -> Any:
    """Press a button that answers with a new message; return that message."""
    emu.press(user, message, label=label)
    return await emu.wait_for_bot_message(chat or emu.private_chat(user), after=message)


async def toggle(emu: Emulator, user: Any, message: Any, label: str) -> None:
    """Press a toggle button and wait until the keyboard shows the change."""

    def labels() -> list[str]:
        return [b.text for row in emu.message(message).buttons for b in row]

    before = labels()
    emu.press(user, message, label=label)
    await emu.wait_for(lambda: labels() != before, what=f"the keyboard after {label}")


async def fill(emu: Emulator, user: Any, first: Any, answers: list[tuple[str, Any]]) -> Any:
    """Answer steps in order: ("text", "..."), ("press", label), ("toggle", [labels]) (then
    Done). Returns the last message the bot sent."""
    message = first
    for kind, value in answers:
        if kind == "text":
            message = await ask(emu, user, value)
        elif kind == "press":
            message = await press(emu, user, message, value)
        else:
            labels, done = value
            for label in labels:
                await toggle(emu, user, message, label)
            message = await press(emu, user, message, done)
    return message


EN_ANSWERS: list[tuple[str, Any]] = [
    ("text", "Red <Jalisco> & Co"),
    ("press", "Civil-society organisation"),
    ("press", "Full member"),
    ("press", "State"),
    ("toggle", (["Jalisco", "Oaxaca"], "Done")),
    ("toggle", (["Taxes"], "Done")),
    ("toggle", ([], "Done")),
    ("press", "English"),
    ("press", "Only our contacts"),
]
ES_ANSWERS: list[tuple[str, Any]] = [
    ("text", "Colectivo Tierra"),
    ("press", "Colectivo activista"),
    ("press", "Aliada"),
    ("press", "Regional (América Latina)"),
    ("toggle", (["Guatemala", "Honduras"], "Listo")),
    ("toggle", ([], "Listo")),
    ("toggle", (["Asesoría legal"], "Listo")),
    ("press", "Español"),
    ("press", "Cualquier integrante de nuestros grupos"),
]


async def rows(service: Any, model: type) -> list[Any]:
    async with service.db.sessions() as session:
        return list((await session.execute(select(model))).scalars().all())


async def counts(service: Any) -> dict[str, int]:
    """How many rows each membership table holds (to show a refusal changed nothing)."""
    result = {}
    async with service.db.sessions() as session:
        for model in (Organisation, Contact, Invitation, AuditEntry, Conversation):
            result[model.__tablename__] = (await session.execute(
                select(func.count()).select_from(model))).scalar_one()
    return result


async def wait_text(emu: Emulator, chat: Any, needle: str, timeout: float = 15) -> Any:
    """The bot's first message in the chat containing `needle` (edits included)."""

    def found() -> Any:
        return next((m for m in emu.bot_messages(chat) if needle in (m.text or "")), None)

    return await emu.wait_for(found, timeout=timeout, what=f"a message with {needle!r}")


def draft(name: str, **overrides: Any) -> Any:
    from bot.services.membership.membership import Draft

    values: dict[str, Any] = dict(name=name, kind="cso", tier="member", scope="state",
                                  areas=["MX-JAL"], topics=["tax"], capacities=[], language="es",
                                  only_contacts_answer=False)
    values.update(overrides)
    return Draft(**values)


async def make_org(service: Any, user_id: int, name: str, approved_by: int | None = None,
                   **overrides: Any) -> int:
    """An organisation made straight through the service (active when `approved_by`)."""
    from bot.services.membership import membership

    async with service.db.transaction() as session:
        org = await membership.register(session, draft(name, **overrides), user_id,
                                        service.clock.now(), approved_by=approved_by)
        return int(org.id)

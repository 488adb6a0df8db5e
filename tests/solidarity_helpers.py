"""Helpers for the solidarity tests: organisations that offer capacities, /ask answered as a
contact would, and reading what each chat received."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from bot.db.models import HelpOffer, HelpRequest, Organisation, OutboxRow
from bot.emulator import Emulator
from tests.alert_helpers import Org, add_org, ask, press
from tests.delivery_helpers import finished
from tests.helpers import eventually

EN = {"routine": "Routine", "soon": "Soon (within days)", "urgent": "Urgent",
      "named": "The organisations that offer it, with our name",
      "anon": "The organisations that offer it, without our name",
      "coord": "Coordinators only (they look for help by hand)",
      "help": "🤝 We can help", "intro": "🤝 We can help: introduce us by name",
      "no": "Not now", "accept": "Accept (messages through the bot)",
      "accept_intro": "Accept and introduce us", "helped": "✅ We were helped",
      "not_needed": "Not needed any more", "no_help": "No help came",
      "legal": "Legal advice", "digital-security": "Digital security",
      "no_alert": "Not about an alert"}
ES = {"routine": "Rutinaria", "soon": "Pronto (en unos días)", "urgent": "Urgente",
      "named": "Las organizaciones que la ofrecen, con nuestro nombre",
      "anon": "Las organizaciones que la ofrecen, sin nuestro nombre",
      "coord": "Solo las coordinadoras (buscan ayuda a mano)",
      "help": "🤝 Podemos ayudar", "intro": "🤝 Podemos ayudar: preséntennos por nombre",
      "no": "Ahora no", "accept": "Aceptar (mensajes a través del bot)",
      "accept_intro": "Aceptar y presentarnos", "helped": "✅ Recibimos ayuda",
      "not_needed": "Ya no hace falta", "no_help": "No llegó ayuda",
      "legal": "Asesoría legal", "digital-security": "Seguridad digital",
      "no_alert": "No es sobre una alerta"}


async def capable_org(emu: Emulator, bot: Any, name: str, capacities: tuple[str, ...],
                      **kw: Any) -> Org:
    """An active organisation (alert_helpers.add_org) that offers `capacities`."""
    org = await add_org(emu, bot, name, **kw)
    async with bot.db.transaction() as session:
        await session.execute(update(Organisation).where(Organisation.id == org.id)
                              .values(capacities=list(capacities)))
    return org


async def set_status(bot: Any, org_id: int, status: str) -> None:
    async with bot.db.transaction() as session:
        await session.execute(update(Organisation).where(Organisation.id == org_id)
                              .values(status=status))


async def ask_for_help(emu: Emulator, user: Any, *, capacity: str, urgency: str, text: str,
                       visibility: str, words: dict[str, str] = EN,
                       alert: str | None = None) -> Any:
    """Answer /ask as the contact would; returns the confirmation (with the close buttons)."""
    m = await ask(emu, user, "/ask")
    m = await press(emu, user, m, words[capacity])
    m = await press(emu, user, m, words[urgency])
    m = await ask(emu, user, text)
    if alert is not None:
        m = await press(emu, user, m, alert)
    return await press(emu, user, m, words[visibility])


async def last_request(bot: Any) -> HelpRequest:
    async def found() -> HelpRequest | None:
        async with bot.db.sessions() as session:
            return (await session.execute(select(HelpRequest).order_by(
                HelpRequest.id.desc()).limit(1))).scalars().first()

    return await eventually(found, what="a request")


async def sent_to(bot: Any, request: HelpRequest) -> list[int]:
    """The chats the request's copies went to, in the order they were queued, once all have
    an answer from Telegram."""
    assert request.fanout_id is not None
    await finished(bot, request.fanout_id, timeout=30)
    async with bot.db.sessions() as session:
        rows = (await session.execute(select(OutboxRow.chat_id).where(
            OutboxRow.fanout_id == request.fanout_id).order_by(OutboxRow.id))).all()
    return [int(c) for (c,) in rows]


async def offers(bot: Any, request_id: int) -> dict[int, tuple[str, str]]:
    async with bot.db.sessions() as session:
        rows = (await session.execute(select(HelpOffer).where(
            HelpOffer.request_id == request_id))).scalars().all()
    return {r.org_id: (r.answer, r.status) for r in rows}


async def answered(emu: Emulator, query: Any) -> Any:
    await emu.wait_for(lambda: query.answered, what="the callback answer")
    return query


def copy_in(emu: Emulator, chat: Any, marker: str) -> Any:
    found = [m for m in emu.bot_messages(chat) if marker in (m.text or "")]
    assert found, f"no message with {marker!r} in {chat}"
    return found[-1]


async def bot_text(emu: Emulator, chat: Any, needle: str, timeout: float = 15) -> Any:
    def found() -> Any:
        return next((m for m in reversed(emu.bot_messages(chat)) if needle in (m.text or "")),
                    None)

    return await emu.wait_for(found, timeout=timeout, what=f"a message with {needle!r}")


def texts(emu: Emulator, chat: Any) -> list[str]:
    return [m.text or "" for m in emu.bot_messages(chat)]


async def outbox_settled(bot: Any) -> None:
    """Every outbox row has Telegram's answer (so a snapshot does not catch one in flight)."""
    async def done() -> bool:
        async with bot.db.sessions() as session:
            waiting = (await session.execute(select(OutboxRow.id).where(
                OutboxRow.state.in_(("queued", "sending"))).limit(1))).first()
        return waiting is None

    await eventually(done, what="the outbox settled")

"""/timezone: buttons, a typed answer checked, and a flow kept in the database across a restart."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Chat, Conversation
from bot.emulator import Emulator


async def ask(emu: Emulator, user, text: str, chat=None):
    sent = emu.send(user, text, chat=chat)
    return await emu.wait_for_bot_message(chat or emu.private_chat(user), after=sent)


async def chat_row(service, chat_id: int) -> Chat | None:
    async with service.db.sessions() as session:
        return await session.get(Chat, chat_id)


async def test_timezone_buttons_offer_the_zones_members_use(emu: Emulator, bot) -> None:
    """The menu names the chat's zone as a place and offers first the zones the coalition's
    chats use, by their city in the reader's language (not a dozen Mexican towns)."""
    gustavo = emu.add_user("Gustavo", language_code="es")
    done = await ask(emu, gustavo, "/timezone Guatemala")
    assert "hora de Guatemala" in done.text
    ana = emu.add_user("Ana", language_code="es")
    menu = await ask(emu, ana, "/timezone")
    assert "hora de México (Ciudad de México)" in menu.text
    labels = [b.text for row in menu.buttons for b in row]
    assert labels == ["Guatemala", "Ciudad de México", "Otra…"]
    emu.press(ana, menu, label="Guatemala")
    done = await emu.wait_for_bot_message(emu.private_chat(ana), after=menu)
    assert "hora de Guatemala" in done.text
    assert (await chat_row(bot, ana.id)).timezone == "America/Guatemala"


async def test_timezone_argument_and_bad_name(emu: Emulator, bot) -> None:
    john = emu.add_user("John", language_code="en")
    bad = await ask(emu, john, "/timezone Mars/Olympus_Mons")
    assert "is not a time zone I know" in bad.text
    assert await chat_row(bot, john.id) is None or (await chat_row(bot, john.id)).timezone is None
    good = await ask(emu, john, "/timezone Europe/Madrid")
    assert "Spain (Madrid) Time" in good.text
    assert (await chat_row(bot, john.id)).timezone == "Europe/Madrid"
    # a city or a country, in either language, finds its zone
    for typed, zone, place in (("Bogotá", "America/Bogota", "Colombia Time"),
                               ("Ciudad de México", "America/Mexico_City", "Mexico City"),
                               ("guatemala", "America/Guatemala", "Guatemala Time")):
        found = await ask(emu, john, f"/timezone {typed}")
        assert place in found.text, typed
        assert (await chat_row(bot, john.id)).timezone == zone


async def test_typed_zone_survives_a_restart_midway(emu: Emulator, make_bot) -> None:
    first = await make_bot()
    ana = emu.add_user("Ana", language_code="es")
    menu = await ask(emu, ana, "/timezone")
    emu.press(ana, menu, label="Otra…")
    question = await emu.wait_for_bot_message(emu.private_chat(ana), after=menu)
    assert "Escribe el nombre de la zona horaria" in question.text
    await first.stop()

    second = await make_bot()
    wrong = await ask(emu, ana, "Marte")
    assert "no es una zona horaria que conozca" in wrong.text
    async with second.db.sessions() as session:
        flows = (await session.execute(select(Conversation))).scalars().all()
    assert [(f.flow, f.step) for f in flows] == [("timezone", "name")]

    done = await ask(emu, ana, "America/Bogota")
    assert "hora de Colombia" in done.text
    assert (await chat_row(second, ana.id)).timezone == "America/Bogota"
    async with second.db.sessions() as session:
        assert (await session.execute(select(Conversation))).scalars().all() == []


async def test_cancel_ends_the_flow_and_keeps_nothing(emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    menu = await ask(emu, ana, "/timezone")
    emu.press(ana, menu, label="Otra…")
    await emu.wait_for_bot_message(emu.private_chat(ana), after=menu)
    cancelled = await ask(emu, ana, "/cancel")
    assert cancelled.text == "Cancelado. No se cambió nada."
    after = await ask(emu, ana, "Europe/Madrid")
    assert "No entendí eso" in after.text
    row = await chat_row(bot, ana.id)
    assert row.timezone is None


async def test_group_flow_asks_with_force_reply(emu: Emulator, bot) -> None:
    admin = emu.add_user("Admin", language_code="en")
    group = emu.add_group("Oaxaca network", members=[admin], admins=[admin])
    emu.add_bot(group, by=admin)
    await ask(emu, admin, "/language en", chat=group)
    menu = await ask(emu, admin, "/timezone", chat=group)
    emu.press(admin, menu, label="Other…")
    question = await emu.wait_for_bot_message(group, after=menu)
    asked = [r for r in emu.requests if r.method == "sendMessage" and "force_reply" in
             str(r.params.get("reply_markup"))]
    assert len(asked) == 1 and "Type the name" in asked[0].params["text"]
    # Privacy mode: a plain message would not reach the bot; a reply to its question does.
    answer = emu.send(admin, "America/Merida", chat=group, reply_to=question)
    done = await emu.wait_for_bot_message(group, after=answer)
    assert "Mexico (Mérida) Time" in done.text
    assert (await chat_row(bot, group.id)).timezone == "America/Merida"

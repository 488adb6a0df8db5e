"""/start, /help and /language as people use them, in private and in groups, in both languages."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import BotService
from bot.db.models import Chat, Person
from bot.emulator import Emulator
from bot.services.shared.roles import ANONYMOUS_ADMIN_ID


async def ask(emu: Emulator, user, text: str, chat=None):
    sent = emu.send(user, text, chat=chat)
    return await emu.wait_for_bot_message(chat or emu.private_chat(user), after=sent)


async def rows(bot: BotService, model):
    async with bot.db.sessions() as session:
        return (await session.execute(select(model))).scalars().all()


async def test_start_in_spanish_makes_person_reachable(emu: Emulator, bot: BotService) -> None:
    ana = emu.add_user("Ana", language_code="es")
    reply = await ask(emu, ana, "/start")
    assert "Soy el bot de la coalición" in reply.text
    assert "/help" in reply.text
    people = await rows(bot, Person)
    assert [(p.id, p.reachable) for p in people] == [(ana.id, True)]


async def test_start_in_english_for_an_english_client(emu: Emulator, bot: BotService) -> None:
    john = emu.add_user("John", language_code="en-GB")
    reply = await ask(emu, john, "/start")
    assert "I am the coalition's bot" in reply.text


async def test_unknown_client_language_falls_back_to_spanish(emu: Emulator,
                                                             bot: BotService) -> None:
    pierre = emu.add_user("Pierre", language_code="fr")
    reply = await ask(emu, pierre, "/help")
    assert "Qué hace este bot" in reply.html


async def test_help_differs_for_coordinators(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    other = emu.add_user("Other", language_code="en")
    await make_bot(coordinator_ids=(coord.id,))
    as_coord = await ask(emu, coord, "/help")
    as_other = await ask(emu, other, "/help")
    assert "You are a coordinator" in as_coord.text
    assert "You are a coordinator" not in as_other.text


async def test_language_buttons_switch_the_private_chat(emu: Emulator, bot: BotService) -> None:
    ana = emu.add_user("Ana", language_code="es")
    menu = await ask(emu, ana, "/language")
    labels = [b.text for row in menu.buttons for b in row]
    assert labels == ["Español", "English", "Español + English"]
    emu.press(ana, menu, label="English")
    done = await emu.wait_for_bot_message(emu.private_chat(ana), after=menu)
    assert done.text == "Done: this chat will now get messages in English."
    assert emu.unanswered_callbacks() == []
    again = await ask(emu, ana, "/help")
    assert "What this bot does" in again.text
    chats = await rows(bot, Chat)
    assert [(c.id, c.language) for c in chats] == [(ana.id, "en")]


async def test_language_both_shows_spanish_then_english(emu: Emulator, bot: BotService) -> None:
    ana = emu.add_user("Ana", language_code="es")
    await ask(emu, ana, "/language both")
    reply = await ask(emu, ana, "/start")
    es_at = reply.text.index("Soy el bot de la coalición")
    en_at = reply.text.index("I am the coalition's bot")
    assert es_at < en_at


async def test_bad_language_argument_changes_nothing(emu: Emulator, bot: BotService) -> None:
    ana = emu.add_user("Ana", language_code="es")
    reply = await ask(emu, ana, "/language klingon")
    assert "No conozco ese idioma" in reply.text
    chats = await rows(bot, Chat)
    assert [c.language for c in chats] == [None]


async def test_group_admin_changes_group_language(emu: Emulator, bot: BotService) -> None:
    admin = emu.add_user("Admin", language_code="es")
    member = emu.add_user("Member", language_code="es")
    group = emu.add_group("Red Jalisco", members=[admin, member], admins=[admin])
    emu.add_bot(group, by=admin)
    hello = await ask(emu, admin, "/start@coalition_test_bot", chat=group)
    assert "En este grupo publico alertas" in hello.text

    refused = await ask(emu, member, "/language en", chat=group)
    assert "Solo las personas administradoras" in refused.text
    async with bot.db.sessions() as session:
        assert (await session.get(Chat, group.id)).language is None

    done = await ask(emu, admin, "/language en", chat=group)
    assert done.text == "Done: this chat will now get messages in English."
    helped = await ask(emu, member, "/help", chat=group)
    assert "only the group's admins" in helped.text


async def test_group_button_pressed_by_a_non_admin_is_refused(emu: Emulator,
                                                             bot: BotService) -> None:
    admin = emu.add_user("Admin", language_code="es")
    member = emu.add_user("Member", language_code="es")
    group = emu.add_group("Red Jalisco", members=[admin, member], admins=[admin])
    emu.add_bot(group, by=admin)
    menu = await ask(emu, admin, "/language", chat=group)
    emu.press(member, menu, label="English")
    await emu.wait_for(lambda: not emu.unanswered_callbacks(), what="the press answered")
    assert any(text and "Solo las personas administradoras" in text
               for _, text, _ in emu.callback_answers)
    async with bot.db.sessions() as session:
        assert (await session.get(Chat, group.id)).language is None


async def test_anonymous_admin_is_not_treated_as_a_person(emu: Emulator, bot: BotService) -> None:
    admin = emu.add_user("Admin", language_code="es")
    group = emu.add_group("Red Jalisco", members=[admin], admins=[admin])
    emu.add_bot(group, by=admin)
    sent = emu.send(admin, "/language en", chat=group, anonymous=True)
    assert sent.sender_id == ANONYMOUS_ADMIN_ID
    reply = await emu.wait_for_bot_message(group, after=sent)
    assert "administrador anónimo" in reply.text
    async with bot.db.sessions() as session:
        assert (await session.get(Chat, group.id)).language is None


async def test_forged_callback_data_is_refused_politely(emu: Emulator, bot: BotService) -> None:
    ana = emu.add_user("Ana", language_code="es")
    menu = await ask(emu, ana, "/language")
    for data in ("v1:lang:xx", "v9:lang:en", "garbage", "v1:tz:Not/AZone"):
        emu.forge_callback(ana, emu.private_chat(ana), menu.message_id, data)
    await emu.wait_for(lambda: len(emu.callback_answers) == 4, what="four answers")
    assert all(text == "Este botón ya no es válido." for _, text, _ in emu.callback_answers)
    chats = await rows(bot, Chat)
    assert [c.language for c in chats] == [None]

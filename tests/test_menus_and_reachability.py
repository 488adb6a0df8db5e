"""Command menus per language and scope; people and groups in step with the bot's membership."""

from __future__ import annotations

import json

from bot.commands import MEMBER_COMMANDS
from bot.db.models import Chat, Person
from bot.emulator import Emulator
from tests.helpers import eventually


def menu(emu: Emulator, scope: dict, lang: str = "") -> dict[str, str]:
    key = (json.dumps(scope, sort_keys=True), lang)
    return {c["command"]: c["description"] for c in emu.world.commands.get(key, [])}


async def test_menus_in_both_languages_and_for_coordinators(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    await make_bot(coordinator_ids=(coord.id,))
    es = menu(emu, {"type": "default"}, "es")
    en = menu(emu, {"type": "default"}, "en")
    default = menu(emu, {"type": "default"})
    assert es["language"] == "Idioma de este chat" and en["language"] == "Language of this chat"
    assert default == es  # DEFAULT_LANGUAGE is es
    assert set(es) == {name for name, _ in MEMBER_COMMANDS}
    assert {"start", "help", "language", "timezone", "cancel", "link", "profile", "contacts",
            "leave"} <= set(es)
    assert menu(emu, {"type": "chat", "chat_id": coord.id}) == {}  # not reachable yet
    sent = emu.send(coord, "/start")
    await emu.wait_for_bot_message(emu.private_chat(coord), after=sent)
    await emu.wait_for(lambda: menu(emu, {"type": "chat", "chat_id": coord.id}),
                       what="the coordinator's own menu")
    own = menu(emu, {"type": "chat", "chat_id": coord.id})
    assert own["help"] == "What this bot does and what you can do"
    assert {"members", "export", "coordinators"} <= set(own) and "members" not in es


async def test_blocking_and_unblocking_follow_the_person(emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana")
    sent = emu.send(ana, "/start")
    await emu.wait_for_bot_message(emu.private_chat(ana), after=sent)

    async def reachable() -> bool | None:
        async with bot.db.sessions() as session:
            person = await session.get(Person, ana.id)
            return None if person is None else person.reachable

    assert await reachable() is True
    emu.block(ana)
    await eventually(lambda: _is(reachable, False), what="unreachable after a block")
    emu.unblock(ana)
    await eventually(lambda: _is(reachable, True), what="reachable after an unblock")


async def test_group_active_follows_the_bots_membership(emu: Emulator, bot) -> None:
    admin = emu.add_user("Admin")
    group = emu.add_group("Red Sonora", members=[admin], admins=[admin])
    emu.add_bot(group, by=admin)

    async def active() -> bool | None:
        async with bot.db.sessions() as session:
            chat = await session.get(Chat, group.id)
            return None if chat is None else chat.active

    await eventually(lambda: _is(active, True), what="active after being added")
    emu.remove_bot(group, by=admin)
    await eventually(lambda: _is(active, False), what="inactive after being removed")


async def _is(check, expected) -> bool:
    return (await check()) is expected

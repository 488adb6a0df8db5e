"""Rule R for actions: /action and every coordinator button (composer steps, Announce, Move,
Cancel), tried by a member (Spanish), a stranger (English), a group admin in a group and an
anonymous admin, are refused with a translated reply and the database is left exactly as it
was; a coordinator in a group is sent to the private chat. /action is in coordinators' menus
only, /upcoming in members'."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.commands import COORDINATOR_COMMANDS, MEMBER_COMMANDS, commands_for
from bot.emulator import Emulator
from tests.action_helpers import (
    CLOCK_START,
    add_org,
    bot_texts,
    compose,
    coordinator,
    last_action,
    local,
    make_action,
    press,
    text_after,
)
from tests.org_helpers import ask, snapshot, started

ONLY = {"es": "Solo las coordinadoras pueden hacer esto.", "en": "Only coordinators can do this."}


@pytest.fixture
def clock_start() -> datetime:
    """The dates below are fixed: the emulator's clock starts before them, whatever today is."""
    return CLOCK_START


def test_menus() -> None:
    members = {name for name, _ in MEMBER_COMMANDS}
    coordinators = {name for name, _ in COORDINATOR_COMMANDS}
    assert "action" in coordinators and "action" not in members
    assert "upcoming" in members and "upcoming" in coordinators
    assert "upcoming" not in {name for name, _ in commands_for("stranger")}


async def test_non_coordinators_are_refused_and_nothing_changes(emu: Emulator,
                                                                make_bot) -> None:
    coord = await coordinator(emu, "en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    org = await add_org(emu, bot, "Alfa")
    ana = org.contact  # a member (Spanish)
    sam = emu.add_user("Sam", language_code="en")
    gil = emu.add_user("Gil", language_code="en")
    grp = emu.add_group("Neutral", members=[gil, ana], admins=[gil])
    emu.add_bot(grp, by=gil)
    await started(emu, ana, sam, gil)
    await ask(emu, gil, "/language en", chat=grp)
    # one announced action (for Move and Cancel) and one draft at its preview
    action_id = await make_action(bot, "Anunciada", local("2027-01-20 18:00", "UTC"))
    chat = emu.private_chat(coord)
    sent = emu.send(coord, "/upcoming")
    listing = await text_after(emu, chat, "Coming actions", sent.message_id)
    confirm = await press(emu, coord, listing, "Cancel")
    _, draft = await compose(emu, coord, title="Borrador", when="2027-02-01 10:00")
    draft_row = await last_action(bot)
    assert draft_row is not None and draft_row.status == "draft"

    before = await snapshot(bot)
    assert (await ask(emu, ana, "/action")).text == ONLY["es"]
    assert (await ask(emu, sam, "/action")).text == ONLY["en"]
    assert (await ask(emu, gil, "/action", chat=grp)).text == ONLY["en"]
    anonymous = await ask(emu, gil, "/action", chat=grp, anonymous=True)
    assert "anonymous group admin" in anonymous.text
    buttons = [(draft, "Announce"), (draft, "Edit"), (draft, "Cancel"), (listing, "Move"),
               (listing, "Cancel"), (confirm, "Yes, cancel it")]
    for message, label in buttons:
        data = message.button(label).callback_data
        for user, where, lang in ((ana, emu.private_chat(ana), "es"),
                                  (sam, emu.private_chat(sam), "en"), (gil, grp, "en")):
            q = emu.forge_callback(user, where, message.message_id, data)
            await emu.wait_for(lambda q=q: q.answered)
            assert q.answer_text == ONLY[lang], (label, lang)
    for data in ("v1:gc:action:kind:hearing", "v1:gt:action:offsets:60", "v1:gd:action:offsets",
                 "v1:gf:action:when", f"v1:aca:{draft_row.id}", f"v1:acy:{action_id}",
                 f"v1:acm:{action_id}"):
        q = emu.forge_callback(sam, emu.private_chat(sam), 1, data)
        await emu.wait_for(lambda q=q: q.answered)
        assert q.answer_text == ONLY["en"]
    after = await snapshot(bot)
    ignore = {"people", "chats", "sent_messages"}  # the refusals themselves
    assert {k: v for k, v in after.items() if k not in ignore} == \
        {k: v for k, v in before.items() if k not in ignore}
    assert bot_texts(emu, org.groups[0], "Borrador") == []
    assert len(bot_texts(emu, org.groups[0], "Anunciada")) == 1


async def test_the_coordinator_in_a_group_is_sent_to_private(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    grp = emu.add_group("Team", members=[coord], admins=[coord])
    emu.add_bot(grp, by=coord)
    await ask(emu, coord, "/language en", chat=grp)
    before = await snapshot(bot)
    told = await ask(emu, coord, "/action", chat=grp)
    assert told.text == "Please compose actions in your private chat with me."
    assert (await snapshot(bot))["actions"] == before["actions"]


async def test_a_stranger_sees_no_actions(emu: Emulator, make_bot) -> None:
    bot = await make_bot()
    org = await add_org(emu, bot, "Alfa")
    await make_action(bot, "Anunciada", local("2027-01-20 18:00", "UTC"))
    sam = emu.add_user("Sam", language_code="en")
    told = await ask(emu, sam, "/upcoming")
    assert told.text == "Only member organisations and coordinators can see the coming actions."
    mine = await ask(emu, org.contact, "/upcoming")
    assert "Próximas acciones" in mine.text and "Anunciada" in mine.text
    assert "Su organización aún no ha respondido." in mine.text

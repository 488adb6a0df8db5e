"""Rule R, table-driven: every coordinator-only command and button, and every contact-only one,
tried by each role that must not use it, is refused with a clear translated reply, and the
database is left exactly as it was. Forged and malformed button data is refused politely too.

Roles: a member (contact of an active organisation, Spanish), a stranger (English), a group
admin who is neither (in a group set to English), and an anonymous group admin (commands only:
Telegram shows no person, so they cannot press buttons as anonymous). Commands of the
registration module (/pending, /invite for new organisations, the Approve/Reject buttons) are in
the table when that module registers them, and skipped, not faked, otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from telegram.ext import CommandHandler

from bot.db.models import Coordinator
from bot.emulator import Emulator
from handlers.shared import callback_data
from tests.org_helpers import ask, make_org, snapshot, started

ONLY_COORD = {"es": "Solo las coordinadoras pueden hacer esto.",
              "en": "Only coordinators can do this."}
ONLY_CONTACTS = {"es": "Solo los contactos de una organización miembro activa pueden hacer esto.",
                 "en": "Only the contacts of an active member organisation can do this."}
ANONYMOUS = {"es": "Estás escribiendo como administrador anónimo",
             "en": "You are writing as an anonymous group admin"}
PRIVATE_ONLY = {"en": "Please send this command to me in our private chat, not in a group."}
INVALID = {"es": "Este botón ya no es válido.", "en": "This button is no longer valid."}


@dataclass
class World:
    bot: Any
    coord: Any
    coord2: Any
    ana: Any      # member: contact of an active organisation (es)
    sam: Any      # stranger (en)
    gil: Any      # admin of the group, neither coordinator nor contact
    grp: Any      # a group set to English, with the bot, Gil and Ana
    org: int
    other_org: int
    other_contact: Any
    pending_org: int


async def world(emu: Emulator, make_bot) -> World:
    coord = emu.add_user("Coord", language_code="es")
    bot = await make_bot(coordinator_ids=(coord.id,))
    coord2 = emu.add_user("Coord Dos", user_id=2**33 + 11, language_code="es")
    ana = emu.add_user("Ana", language_code="es")
    sam = emu.add_user("Sam", user_id=2**35 + 1, language_code="en")
    gil = emu.add_user("Gil", language_code="en")
    olga = emu.add_user("Olga", language_code="es")
    grp = emu.add_group("Red", members=[gil, ana], admins=[gil], supergroup=True)
    emu.add_bot(grp, by=gil)
    await started(emu, coord, coord2, ana, sam, gil, olga)
    async with bot.db.transaction() as session:
        session.add(Coordinator(user_id=coord2.id, added_by=coord.id, added_at=bot.clock.now()))
    org = await make_org(bot, ana.id, "Alfa", coordinator=coord.id)
    other = await make_org(bot, olga.id, "Otra", coordinator=coord.id)
    pending = await make_org(bot, 2**36 + 3, "Pendiente", active=False)
    await ask(emu, gil, "/language en", chat=grp)
    return World(bot, coord, coord2, ana, sam, gil, grp, org, other, olga, pending)


def registered(app: Any, command: str) -> bool:
    return any(isinstance(h, CommandHandler) and command in h.commands
               for handlers in app.handlers.values() for h in handlers)


# (command, needs the registration module, expected reply per role: member, stranger, group)
COORDINATOR_COMMANDS: list[tuple[str, bool, dict[str, str]]] = [
    ("/members", False, {}),
    ("/members state=MX-JAL status=pending", False, {}),
    ("/export", False, {}),
    ("/coordinators", False, {}),
    ("/coordinators add {sam}", False, {}),
    ("/coordinators remove {coord2}", False, {}),
    ("/coordinators remove {coord}", False, {}),
    ("/pending", True, {}),
    ("/invite ally Red Nueva", True, {
        "member": "Solo las coordinadoras pueden invitar a una organización nueva",
        "stranger": "Only coordinators and contacts of member organisations can invite.",
        "group": "Please send /invite to me in a private chat."}),
]


def fill(text: str, w: World) -> str:
    return text.format(sam=w.sam.id, coord2=w.coord2.id, coord=w.coord.id)


async def refused_everywhere(emu: Emulator, w: World, command: str,
                             expected: dict[str, str], roles: tuple[str, ...]) -> None:
    before = await snapshot(w.bot)
    tries = {
        "member": (w.ana, None, False, "es"),
        "stranger": (w.sam, None, False, "en"),
        "group": (w.gil, w.grp, False, "en"),
        "anonymous": (w.gil, w.grp, True, "en"),
    }
    for role in roles:
        user, chat, anonymous, lang = tries[role]
        answer = await ask(emu, user, command, chat=chat, anonymous=anonymous)
        want = expected.get(role) or (ANONYMOUS[lang] if role == "anonymous" else None)
        assert want, (command, role)
        assert answer.text.startswith(want), (command, role, answer.text)
        assert answer.document is None and not answer.buttons, (command, role)
    assert await snapshot(w.bot) == before, command


@pytest.mark.parametrize("command,needs_registration,special",
                         COORDINATOR_COMMANDS, ids=[c[0] for c in COORDINATOR_COMMANDS])
async def test_coordinator_commands_refused_to_every_other_role(
        emu: Emulator, make_bot, command: str, needs_registration: bool,
        special: dict[str, str]) -> None:
    w = await world(emu, make_bot)
    name = command.split()[0].lstrip("/")
    if not registered(w.bot.application, name):
        assert needs_registration
        pytest.skip(f"/{name} is not registered yet (handlers/membership/registration.py)")
    expected = {"member": ONLY_COORD["es"], "stranger": ONLY_COORD["en"],
                "group": ONLY_COORD["en"], **special}
    await refused_everywhere(emu, w, fill(command, w), expected,
                             ("member", "stranger", "group", "anonymous"))


CONTACT_COMMANDS: list[tuple[str, dict[str, str]]] = [
    ("/profile", {"stranger": ONLY_CONTACTS["en"], "group": PRIVATE_ONLY["en"]}),
    ("/contacts", {"stranger": ONLY_CONTACTS["en"], "group": PRIVATE_ONLY["en"]}),
    ("/leave", {"stranger": ONLY_CONTACTS["en"], "group": PRIVATE_ONLY["en"]}),
    ("/link", {"stranger": "Send /link in the group you want to link",
               "group": ONLY_CONTACTS["en"]}),
]


@pytest.mark.parametrize("command,expected", CONTACT_COMMANDS,
                         ids=[c[0] for c in CONTACT_COMMANDS])
async def test_contact_commands_refused_to_strangers_and_anonymous_admins(
        emu: Emulator, make_bot, command: str, expected: dict[str, str]) -> None:
    w = await world(emu, make_bot)
    await refused_everywhere(emu, w, command, expected, ("stranger", "group", "anonymous"))


async def press_refused(emu: Emulator, w: World, user: Any, chat: Any, data: str,
                        want: str) -> None:
    """Press `data` under the bot's last message in `chat`; it must be refused, nothing changed."""
    target = emu.bot_messages(chat)[-1]
    before = await snapshot(w.bot)
    q = emu.forge_callback(user, chat, target.message_id, data)
    await emu.wait_for(lambda: q.answered, what=f"an answer to {data}")
    assert q.answer_text == want, (data, q.answer_text)
    assert await snapshot(w.bot) == before, data
    assert emu.bot_messages(chat)[-1].message_id == target.message_id, data
    assert emu.message(target).edit_date is None, data


async def test_coordinator_buttons_refused_to_every_other_role(emu: Emulator,
                                                               make_bot) -> None:
    w = await world(emu, make_bot)
    buttons = ["v1:mem:1:-", "v1:mem:0:a13.s0"]
    if "dec" in callback_data._BY_NAME:  # the registration module's Approve / Reject
        buttons += [f"v1:dec:{w.pending_org}:a", f"v1:dec:{w.pending_org}:r"]
    for data in buttons:
        await press_refused(emu, w, w.ana, emu.private_chat(w.ana), data, ONLY_COORD["es"])
        await press_refused(emu, w, w.sam, emu.private_chat(w.sam), data, ONLY_COORD["en"])
        await press_refused(emu, w, w.gil, w.grp, data, ONLY_COORD["en"])


async def test_contact_buttons_refused_to_strangers_and_other_orgs(emu: Emulator,
                                                                   make_bot) -> None:
    w = await world(emu, make_bot)
    buttons = ["v1:pfn", "v1:pfl:en", "v1:pfe:t", "v1:pft:t:3:1", "v1:pfa:1",
               f"v1:ctrm:{w.ana.id}", f"v1:leave:{w.org}", "v1:leaveno"]
    for data in buttons:
        await press_refused(emu, w, w.sam, emu.private_chat(w.sam), data, ONLY_CONTACTS["en"])
        await press_refused(emu, w, w.gil, w.grp, data, ONLY_CONTACTS["en"])
        # a coordinator is not a contact either: rule A, changing an org needs its contact
        await press_refused(emu, w, w.coord, emu.private_chat(w.coord), data,
                            ONLY_CONTACTS["es"])
    # a contact of one organisation cannot act on another's through forged data
    await press_refused(emu, w, w.ana, emu.private_chat(w.ana), f"v1:leave:{w.other_org}",
                        ONLY_CONTACTS["es"])
    await press_refused(emu, w, w.ana, emu.private_chat(w.ana),
                        f"v1:ctrm:{w.other_contact.id}",
                        "Esa persona no es contacto de tu organización.")


MALFORMED = ["v1:mem", "v1:mem:1", "v1:mem:x:-", "v1:mem:-1:-", "v1:mem:1:zz9", "v1:mem:1:a999",
             "v1:mem:1:t1.", "v1:mem:1:-:extra", "v2:mem:1:-", "v1:pfl:fr", "v1:pfe:x",
             "v1:pft:t:99:1", "v1:pft:q:1:1", "v1:pft:t:-1:0", "v1:pft:t:1",
             "v1:pft:t:1:2", "v1:ctrm:-5", "v1:ctrm:abc",
             "v1:ctrm:" + "9" * 30, "v1:leave:0", "v1:leave:x", "v1:dec:1:z", "v1:members:1",
             "garbage", "v1::", "v1:pfa", "v1:pfa:2"]


@pytest.mark.parametrize("presser", ["coord", "ana"])
async def test_forged_and_malformed_data_is_refused_politely(emu: Emulator, make_bot,
                                                             presser: str) -> None:
    w = await world(emu, make_bot)
    user = getattr(w, presser)
    for data in MALFORMED:
        await press_refused(emu, w, user, emu.private_chat(user), data, INVALID["es"])

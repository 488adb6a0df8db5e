"""Polls: rule R (only coordinators create polls; results of open polls are theirs), and the
whole path in Spanish with the state line and a low-profile organisation never named."""

from __future__ import annotations

from bot.emulator import Emulator
from tests.org_helpers import ask, snapshot
from tests.poll_helpers import (
    closed_result,
    coalition,
    compose,
    last_poll,
    poll_message,
    texts,
    traced,
    voted,
)
from tests.test_roles import ANONYMOUS, ONLY_COORD, World, world

NOT_AVAILABLE = {"es": "Estos resultados no están disponibles para ti.",
                 "en": "These results are not available to you."}
STRANGER_POLLS = "Only coordinators and the contacts of member organisations can see polls."


async def kept(bot, *busy: str) -> dict:
    """The database but the bot's own sent-message log (replies are logged for deletion) and
    the tables named `busy` (a fan-out and its tracing still at work)."""
    rows = await snapshot(bot)
    for name in ("sent_messages", *busy):
        rows.pop(name, None)
    return rows


SENDING = ("scheduled_tasks", "outbox", "fanouts", "poll_copies")


async def refused_everywhere(emu: Emulator, w: World, command: str,
                             expected: dict[str, str], roles: tuple[str, ...]) -> None:
    before = await kept(w.bot)
    tries = {"member": (w.ana, None, False), "stranger": (w.sam, None, False),
             "group": (w.gil, w.grp, False), "anonymous": (w.gil, w.grp, True)}
    for role in roles:
        user, chat, anonymous = tries[role]
        answer = await ask(emu, user, command, chat=chat, anonymous=anonymous)
        want = expected.get(role) or ANONYMOUS["en"]
        assert answer.text.startswith(want), (command, role, answer.text)
        assert not answer.buttons, (command, role)
    assert await kept(w.bot) == before, command


async def press_refused(emu: Emulator, w: World, user, chat, data: str, want: str) -> None:
    target = emu.bot_messages(chat)[-1]
    before = await kept(w.bot)
    q = emu.forge_callback(user, chat, target.message_id, data)
    await emu.wait_for(lambda: q.answered, what=f"an answer to {data}")
    assert q.answer_text == want, (data, q.answer_text)
    assert await kept(w.bot) == before, data
    assert emu.bot_messages(chat)[-1].message_id == target.message_id, data


async def test_poll_command_refused_to_every_other_role(emu: Emulator, make_bot) -> None:
    w = await world(emu, make_bot)
    await refused_everywhere(emu, w, "/poll", {
        "member": ONLY_COORD["es"], "stranger": ONLY_COORD["en"], "group": ONLY_COORD["en"]},
        ("member", "stranger", "group", "anonymous"))
    await refused_everywhere(emu, w, "/polls", {
        "stranger": STRANGER_POLLS, "group": STRANGER_POLLS},
        ("stranger", "group", "anonymous"))


async def test_poll_buttons_refused_to_every_other_role(emu: Emulator, make_bot) -> None:
    w = await world(emu, make_bot)
    # the coordinator composes a poll up to its preview, then others press its buttons
    await ask(emu, w.coord, "/poll")
    for data in ("v1:pd", "v1:ge:poll:0", "v1:gx:poll:0", "v1:gc:poll:kind:single",
                 "v1:gc:poll:audience:all"):
        await press_refused(emu, w, w.ana, emu.private_chat(w.ana), data, ONLY_COORD["es"])
        await press_refused(emu, w, w.sam, emu.private_chat(w.sam), data, ONLY_COORD["en"])
        await press_refused(emu, w, w.gil, w.grp, data, ONLY_COORD["en"])
    await press_refused(emu, w, w.ana, emu.private_chat(w.ana), "v1:pr:1", NOT_AVAILABLE["es"])
    await press_refused(emu, w, w.sam, emu.private_chat(w.sam), "v1:pr:1", NOT_AVAILABLE["en"])


async def test_members_see_results_only_once_closed(emu: Emulator, make_bot) -> None:
    c = await coalition(emu, make_bot, coord_lang="en")
    await compose(emu, c.coord, "Which first?", ["Law", "Taxes"])
    poll = await last_poll(c.bot)
    ana = c.people["ana"]
    listing = await ask(emu, ana, "/polls")
    assert listing.text == "Aún no hay encuestas."  # members see closed polls only
    before = await kept(c.bot, *SENDING)
    q = emu.forge_callback(ana, emu.private_chat(ana), listing.message_id, f"v1:pr:{poll.id}")
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == NOT_AVAILABLE["es"]
    assert await kept(c.bot, *SENDING) == before
    coordinator_view = await ask(emu, c.coord, "/polls")
    emu.press(c.coord, coordinator_view, label="Results 1")
    shown = await emu.wait_for_bot_message(emu.private_chat(c.coord), after=coordinator_view)
    assert shown.text.startswith("Poll results so far")
    chart = await emu.wait_for(lambda: next(
        (m for m in emu.bot_messages(emu.private_chat(c.coord)) if m.photo), None))
    assert chart.caption == "Results chart: Which first?"


async def test_whole_path_in_spanish_with_state_line(emu: Emulator, make_bot) -> None:
    c = await coalition(emu, make_bot, coord_lang="es")
    done = await compose(emu, c.coord, "¿Qué primero?", ["Ley OSC", "Impuestos"],
                         kind="Opción única", counting="Un voto por organización", allies="Sí",
                         audience="Todas las organizaciones", closes="3d", send="Enviar")
    assert done.text == "La encuesta se envió a 6 chats de 5 organizaciones. Resultados: /polls"
    poll = await last_poll(c.bot)
    await traced(c.bot, poll.id)
    g, p = c.groups, c.people
    emu.vote(p["ana"], poll_message(emu, g["g1"]), [1])
    emu.vote(p["dani"], poll_message(emu, g["g3"]), [1])
    emu.vote(p["lola"], poll_message(emu, g["g4"]), [0])
    emu.vote(p["nico"], poll_message(emu, emu.private_chat(p["nico"])), [0])
    emu.vote(p["ali"], poll_message(emu, emu.private_chat(p["ali"])), [0])
    await voted(c.bot, 5)
    emu.clock.advance(3 * 86400 + 60)
    result = await closed_result(c.bot, poll.id)
    assert result["headline"] == [3, 2] and result["allies"] == [1, 0]
    await emu.wait_for(lambda: "Resultados de la encuesta" in texts(emu, g["g1"]) or None)
    red = texts(emu, g["g1"])
    assert "Participación: votaron 5 de 5 organizaciones." in red
    # Jalisco: three organisations voted (Red, Sur, Sombra): Impuestos first there, second overall.
    assert "En Jalisco, «Impuestos» quedó en primer lugar; en toda la coalición, segundo lugar." \
        in red
    # Oaxaca has two voting organisations: no line for it, and no split naming it (rule Q).
    await emu.wait_for(lambda: "Resultados de la encuesta" in texts(
        emu, emu.private_chat(p["nico"])) or None)
    nico = texts(emu, emu.private_chat(p["nico"]))
    assert "Oaxaca" not in nico and "En Jalisco" not in nico
    for chat in (g["g1"], g["g2"], g["g3"], emu.private_chat(p["nico"])):
        assert "Sombra" not in texts(emu, chat)
    await emu.wait_for(lambda: "Resultados de la encuesta" in texts(
        emu, emu.private_chat(c.coord)) or None)
    coord = texts(emu, emu.private_chat(c.coord))
    assert "Oaxaca (2 organizaciones)" in coord  # coordinators see every group

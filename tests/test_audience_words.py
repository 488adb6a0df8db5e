"""Places typed by their names (issue 24): an action's regions, like /poll's and /members'
filters, take a state or a country by its name in either language, with or without accents, or
by its code, and reach the same organisations either way."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.emulator import Emulator
from tests.action_helpers import CLOCK_START, ES, compose, coordinator, last_action
from tests.alert_helpers import add_org, ask, press, toggle


@pytest.fixture
def clock_start() -> datetime:
    return CLOCK_START


async def test_an_actions_regions_by_name(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "es")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await add_org(emu, bot, "Red Jalisco")
    await add_org(emu, bot, "Voces del Norte", areas=("MX-NLE",))
    _, summary = await compose(emu, coord, title="Audiencia", when="2027-02-01 09:30",
                               words=ES, regions="nuevo leon, Guatemala")
    item = await last_action(bot)
    assert item is not None and item.regions == ["MX-NLE", "GT"]
    assert "Invitará a 1 organización" in summary.text


async def test_places_typed_in_the_picker(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "en")
    await make_bot(coordinator_ids=(coord.id,))
    m = await ask(emu, coord, "/action")
    m = await ask(emu, coord, "Hearing")
    m = await press(emu, coord, m, "Skip")
    m = await press(emu, coord, m, "Hearing")
    m = await ask(emu, coord, "2027-02-01 09:30")
    m = await press(emu, coord, m, "Skip")
    m = await press(emu, coord, m, "All organisations")
    m = await press(emu, coord, m, "Done")
    partly = await ask(emu, coord, "Jalisco Atlantis")
    assert partly.text.startswith("Ticked: Jalisco. Nothing matches “Atlantis”.")
    assert "✅ Jalisco" in [b.text for row in partly.buttons for b in row]
    nothing = await ask(emu, coord, "Atlantis")
    assert nothing.text.startswith("Nothing matches “Atlantis”.")
    some = await ask(emu, coord, "baja")  # part of a name: both Bajas
    assert some.text.startswith("Ticked: Baja California, Baja California Sur.")


async def test_a_poll_narrowed_with_the_picker(emu: Emulator, make_bot) -> None:
    """/poll's "Only some" asks with the same picker: a place typed by part of its name, a kind
    pressed; the preview says whom it reaches."""
    coord = await coordinator(emu, "en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await add_org(emu, bot, "Red Oaxaca", areas=("MX-OAX",), kind="foundation")
    await add_org(emu, bot, "Red Jalisco")
    await ask(emu, coord, "/poll")
    await ask(emu, coord, "Which first?")
    m = await ask(emu, coord, "A\nB")
    for label in ("Single choice", "One vote per organisation", "No", "All organisations"):
        m = await press(emu, coord, m, label)
    places = await press(emu, coord, m, "Only some: by place, topic or kind")
    assert places.text.startswith("Which places?")
    ticked = await ask(emu, coord, "oax")
    assert ticked.text.startswith("Ticked: Oaxaca.")
    topics = await press(emu, coord, ticked, "Done")
    kinds = await press(emu, coord, topics, "Done")
    await toggle(emu, coord, kinds, "Foundation")
    closes = await press(emu, coord, kinds, "Done")
    assert closes.text.startswith("When does it close?")
    preview = await ask(emu, coord, "3d")
    assert "Only: Oaxaca" in preview.text and "Foundation" in preview.text
    assert "Organisations reached: 1. Chats: 1." in preview.text

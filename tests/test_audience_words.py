"""Places typed by their names (issue 24): an action's regions, like /poll's and /members'
filters, take a state or a country by its name in either language, with or without accents, or
by its code, and reach the same organisations either way."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.emulator import Emulator
from tests.action_helpers import CLOCK_START, ES, compose, coordinator, last_action
from tests.alert_helpers import add_org, ask, press


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

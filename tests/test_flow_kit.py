"""A composer is a declaration of its steps (issue 23): adding a question to a guided flow is one
`Step(...)` in its tuple, and the kit asks it in its place, offers it in the preview's Edit menu,
keeps its answer in the draft and brings the person back to the preview after changing it.

The test declares a small composer, runs it as a person would, then declares it again with one
more step (the only change) and runs it again."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from telegram import InlineKeyboardButton, Update
from telegram.ext import CommandHandler, ContextTypes

from bot.emulator import Emulator
from handlers.shared import guided
from handlers.shared.buttons import Who
from handlers.shared.common import Here, here, reply
from handlers.shared.guided import Composer, Kind, Refuse, StateDrafts, Step
from handlers.shared.steps import EDITS, STEPS
from tests.alert_helpers import ask, press, toggle


@dataclasses.dataclass
class Trip:
    destination: str | None = None
    nights: str | None = None
    food: list[str] = dataclasses.field(default_factory=list)


def _destination(where: Here, text: str, trip: Trip) -> dict[str, object] | Refuse:
    if len(text) > 40:
        return Refuse(lambda t: "Too long.")
    return {"destination": text}


BASE = (
    Step("destination", Kind.TEXT, lambda t, _: "Where to?", parse=_destination,
         label="Destination"),
    Step("food", Kind.TOGGLE, lambda t, _: "What do you eat?",
         options=lambda t, _: [("fish", "Fish"), ("rice", "Rice")], label="Food"),
)
# The one declaration a new question takes:
NIGHTS = Step("nights", Kind.CHOICE, lambda t, _: "How many nights?",
              options=lambda t, _: [("1", "One"), ("2", "Two")], label="Nights")


@pytest.fixture
def composers() -> Iterator[list[Composer]]:
    made: list[Composer] = []
    yield made
    for composer in made:  # the registries are the process's: leave them as they were
        guided.COMPOSERS.pop(composer.flow, None)
        EDITS.pop(composer.flow, None)
        for key in [k for k in STEPS if k[0] == composer.flow]:
            del STEPS[key]


def declare(flow: str, steps: tuple[Step, ...], made: list[Composer], bot: Any) -> Composer:
    async def summary(update: Update, where: Here, trip: Trip) -> None:
        await reply(update, where, lambda t: (
            f"Trip to {trip.destination}, nights: {trip.nights or '—'}, "
            f"food: {', '.join(trip.food) or '—'}"),
            markup=composer.controls(where, trip, InlineKeyboardButton(
                "Book", url="https://example.org")))

    composer = Composer(flow, steps, StateDrafts.of(Trip), summary,
                        cancelled=lambda t: "Cancelled.", private_only=lambda t: "Private only.",
                        who=Who.ANYONE)
    made.append(composer)

    async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await composer.open(update, await here(update, context), {}, draft=Trip())

    bot.application.add_handler(CommandHandler(flow, command))
    return composer


async def test_a_step_added_is_one_declaration(emu: Emulator, make_bot: Any,
                                               composers: list[Composer]) -> None:
    bot = await make_bot()
    ana = emu.add_user("Ana", language_code="en")
    declare("trip", BASE, composers, bot)
    # the flow as declared: two questions, then the summary
    m = await ask(emu, ana, "/trip")
    assert m.text == "Where to?"
    # Done forged on a step that has none (a required text) skips nothing
    q = emu.forge_callback(ana, emu.private_chat(ana), m.message_id, "v1:gd:trip:destination")
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == "This button is no longer valid."
    m = await ask(emu, ana, "Oaxaca")
    assert m.text == "What do you eat?"
    await toggle(emu, ana, m, "Fish")
    done = await press(emu, ana, m, "Done")
    assert done.text == "Trip to Oaxaca, nights: —, food: fish"

    # the same composer with one Step more, declared where it is asked
    declare("trip2", (BASE[0], NIGHTS, BASE[1]), composers, bot)
    m = await ask(emu, ana, "/trip2")
    m = await ask(emu, ana, "Oaxaca")
    assert m.text == "How many nights?"
    assert [b.text for row in m.buttons for b in row] == ["One", "Two"]
    m = await press(emu, ana, m, "Two")
    assert m.text == "What do you eat?"
    await toggle(emu, ana, m, "Rice")
    preview = await press(emu, ana, m, "Done")
    assert preview.text == "Trip to Oaxaca, nights: 2, food: rice"
    # it is in the Edit menu, and changing it goes back to the preview
    menu = await press(emu, ana, preview, "Edit")
    assert [b.text for row in menu.buttons for b in row] == ["Destination", "Nights", "Food"]
    m = await press(emu, ana, menu, "Nights")
    assert m.text == "How many nights?"
    again = await press(emu, ana, m, "One")
    assert again.text == "Trip to Oaxaca, nights: 1, food: rice"
    # and the old buttons of that step are stale now: nothing changes
    q = emu.press(ana, m, label="Two")
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == "This button is no longer valid."
    cancelled = await press(emu, ana, again, "Cancel")
    assert cancelled.text == "Cancelled."

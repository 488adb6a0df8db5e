"""A composer is a declaration of its steps (issue 23): adding a question to a guided flow is one
`Step(...)` in its tuple, and the kit asks it in its place, offers it in the preview's Edit menu,
keeps its answer in the draft and brings the person back to the preview after changing it.

The test declares a small composer, runs it as a person would, then declares it again with one
more step (the only change) and runs it again."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from telegram import InlineKeyboardButton, Update
from telegram.ext import CommandHandler, ContextTypes

from bot.db.engine import Database
from bot.db.migrate import alembic_config
from bot.db.models import Conversation
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


async def test_flows_open_across_the_deploy_go_on(empty_database_url: str, emu: Emulator,
                                                  make_bot: Any) -> None:
    """Rows saved by the code before the kit (a flow open when the new version started) are
    rewritten by migration 0015 to the kit's shape: an invitee's prefilled name and tier stay
    theirs (asked again, the tier could be changed to a full membership the inviter never
    gave), a report's text and link are kept, a poll's last step is the preview. (The empty
    database is asked for first, so it is dropped after the bot stops.)"""
    ana = emu.add_user("Ana", language_code="en")
    now = datetime.fromtimestamp(emu.clock.now(), UTC)
    later = now + timedelta(hours=20)
    # on SQLite the empty database's file is the one make_bot's own database is copied to
    url = empty_database_url.replace("coalition.db", "before-the-kit.db")
    db = Database(url)

    def to_0014(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0014")

    async with db.engine.connect() as conn:
        await conn.run_sync(to_0014)
        await conn.commit()
    old_rows = [
        (ana.id, "register", "kind", {
            "draft": {"name": "Red Invitada", "tier": "ally", "invitation": "abc", "areas": [],
                      "topics": [], "capacities": []},
            "skip": ["name", "tier"], "approved_by": 1}),
        (101, "report", "state", {"text": "Una ley nueva.", "link": "https://ley.example"}),
        (102, "poll", "confirm", {"draft": {"question": "¿Cuál primero?"}}),
    ]
    async with db.engine.begin() as conn:
        for user_id, flow, step, data in old_rows:
            await conn.execute(insert(Conversation.__table__).values(
                chat_id=user_id, user_id=user_id, flow=flow, step=step, data=data,
                updated_at=now, expires_at=later))
    await db.dispose()

    bot = await make_bot(database_url=url)  # migrates to the newest revision
    async with bot.db.sessions() as session:
        rows = {r.flow: (r.step, r.data) for r in (await session.execute(
            select(Conversation).where(Conversation.user_id.in_((101, 102))))).scalars()}
    assert rows["report"] == ("state", {"draft": {"text": "Una ley nueva.",
                                                  "link": "https://ley.example"}})
    assert rows["poll"] == ("preview", {"draft": {"question": "¿Cuál primero?"}})
    # the invitee goes on where they were, and the invitation's tier is not asked again
    again = await ask(emu, ana, "hello")
    assert "What kind of organisation is it?" in again.text
    scope = await press(emu, ana, again, "Foundation")
    assert scope.text == "Where does it work?"

"""Every button route, pressed where it was never shown (issue 23, item 2).

A modified client can send any callback data with any message id of a chat its user is in. The
table below is generated from the route registry (`handlers.shared.buttons.ROUTES`), not written
by hand: for every route, a stranger in a member group and another organisation's contact (a
member of that group too) press it on an alert copy; the copy must read and look exactly as
before, byte for byte. A route registered without saying how it knows its message is refused at
registration, and a route this test cannot build data for fails it (give it an example below).
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
from sqlalchemy import func, select

import handlers  # noqa: F401  (every capability's routes register on import)
from bot.db.models import SavedUpdate
from bot.emulator import Emulator
from handlers.shared import callback_data as cd
from handlers.shared.buttons import ROUTES, Owner, on
from tests.alert_helpers import add_org, alert_copies, compose, send
from tests.helpers import eventually, updates_handled


async def saved_and_handled(bot: Any) -> tuple[int, bool]:
    """How many updates the bot has saved, and whether all are handled."""
    async with bot.db.sessions() as session:
        total, pending = (await session.execute(select(
            func.count(), func.count().filter(SavedUpdate.status != "done")))).one()
    return int(total), not pending

# Values a route's string fields take; most routes decode with one of them.
WORDS = ("es", "acknowledge", "sign_on", "legal", "America/Mexico_City", "kind", "severity",
         "title", "hearing", "offsets", "going", "routine", "helped", "coord", "body_es", "t",
         "d", "on", "-", "all", "topics", "a", "help", "x")
# The few whose checks want a value of their own (each line: the data, `{id}` the alert's id).
EXAMPLES = {
    "ToggleItem": "v1:pft:t:0:1",
    "LowProfileSet": "v1:lp:1:on:0",
    "AcceptPress": "v1:hy:1:1:0",
    "FlowChoice": "v1:gc:action:kind:hearing",
    "FlowToggle": "v1:gt:action:topics:tax",
    "FlowDone": "v1:gd:action:topics",
    "FlowField": "v1:gf:action:title",
    "FlowEdit": "v1:ge:action:{id}",
    "FlowCancel": "v1:gx:action:{id}",
    "DigestSet": "v1:dgs:d:9",
    "ToggleAnswering": "v1:pfa:1",
    "MembersPage": "v1:mem:1:-",
    "ClosePress": "v1:hx:1:helped",
    "RsvpPress": "v1:acr:1:going",
    "EditList": "v1:pfe:t",
}


def example_data(cls: type, alert_id: int) -> str | None:
    """Callback data that decodes to `cls`: the alert's id in every int field (so routes about
    an alert name this one), a word from the pool in every string field."""
    if cls.__name__ in EXAMPLES:
        return EXAMPLES[cls.__name__].format(id=alert_id)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    texts = [f for f in fields if f.type not in ("int", int)]
    for ints in (str(alert_id), "1", "0"):
        for combo in itertools.product(WORDS, repeat=len(texts)):
            words = iter(combo)
            args = [ints if f.type in ("int", int) else next(words) for f in fields]
            data = ":".join([cd.VERSION, cd._NAME_OF[cls], *args])
            if cd.decode(data) is not None:
                return data
    return None


def test_a_route_must_say_how_it_knows_its_message() -> None:
    with pytest.raises(TypeError):
        on(int)(lambda *_: None)  # type: ignore[call-arg, arg-type]
    assert all(isinstance(route.owner, Owner) for route in ROUTES.values())


async def test_no_route_changes_an_alert_copy_it_was_not_shown_on(emu: Emulator,
                                                                  make_bot: Any) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    alfa = await add_org(emu, bot, "Alfa")
    beta = await add_org(emu, bot, "Beta")
    stranger = emu.add_user("Stranger", language_code="es")
    group = alfa.groups[0]
    emu.join_group(stranger, group)
    emu.join_group(beta.contact, group)
    await eventually(lambda: updates_handled(bot), what="the joins handled")
    _, summary = await compose(emu, coord, title="Reforma", es=["Texto de la alerta."],
                               asks=("Received", "We sign on", "This affects us", "We can help"))
    alert = await send(emu, bot, coord, summary)
    [copy] = alert_copies(emu, group, "Texto de la alerta.")

    def looks() -> tuple[Any, ...]:
        message = emu.message(copy)
        return (message.text, message.entities, message.reply_markup, message.edit_date,
                message.deleted)

    before = looks()
    table, missing = [], []
    for cls, route in sorted(ROUTES.items(), key=lambda item: cd._NAME_OF[item[0]]):
        data = example_data(cls, alert.id)
        if data is None:
            missing.append(cls.__name__)
            continue
        row = [cls.__name__, str(getattr(route, "owner", "undeclared"))]
        for presser in (stranger, beta.contact):
            seen, _ = await saved_and_handled(bot)
            query = emu.forge_callback(presser, group, copy.message_id, data)

            async def handled(seen: int = seen) -> bool:
                total, done = await saved_and_handled(bot)
                return total > seen and done

            await eventually(handled, what=f"{data} handled")
            row.append("unchanged" if looks() == before else "CHANGED")
            row.append("answered" if query.answered else "silent")
        table.append(row)
    printed = "\n".join(" | ".join(r) for r in table)
    print(printed)
    assert missing == [], f"no example data for {missing}: add one to EXAMPLES"
    assert len(table) == len(ROUTES)
    assert all(r[2] == r[4] == "unchanged" for r in table), printed
    assert all(r[3] == r[5] == "answered" for r in table), printed
    assert looks() == before

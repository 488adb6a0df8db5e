"""/action: a coordinator composes an advocacy action in their own time zone, it is announced to
the organisations rule T names with RSVP buttons, and answers count per rule A; dates that do
not parse, lie in the past or fall in a daylight-saving gap get a clear reply. Both languages.
A low-profile organisation is never named to the others."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db.models import ActionStranger
from bot.emulator import Emulator
from bot.services.actions import actions
from tests.action_helpers import (
    CLOCK_START,
    ES,
    action_row,
    add_org,
    ask,
    compose,
    coordinator,
    last_action,
    local,
    press,
    set_zone,
    text_after,
)
from tests.alert_helpers import everything_read, outbox_chats
from tests.delivery_helpers import finished
from tests.helpers import eventually


@pytest.fixture
def clock_start() -> datetime:
    """The dates below are fixed: the emulator's clock starts before them, whatever today is."""
    return CLOCK_START


async def answered(emu: Emulator, q: Any) -> str:
    await emu.wait_for(lambda: q.answered, what="the press answered")
    return q.answer_text or ""


def copy_in(emu: Emulator, chat: Any, marker: str) -> Any:
    found = [m for m in emu.bot_messages(chat) if marker in (m.text or "")]
    assert len(found) == 1, [m.text for m in emu.bot_messages(chat)]
    return found[0]


async def test_compose_announce_and_answer_in_english(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    jal = await add_org(emu, bot, "Red Jalisco", group_language="es")
    norte = await add_org(emu, bot, "Voces del Norte", group_language="en", areas=("MX-CHH",))
    hidden = await add_org(emu, bot, "Colectivo Sombra", low_profile=True, only_contacts=True)
    solo = await add_org(emu, bot, "Sin Grupo", groups=0, contact_language="en")
    ally = await add_org(emu, bot, "Aliada Lejana", tier="ally")
    await set_zone(bot, norte.groups[0].id, "Europe/Madrid")
    sent = emu.send(coord, "/timezone America/New_York")
    await emu.wait_for_bot_message(emu.private_chat(coord), after=sent)

    tries, summary = await compose(
        emu, coord, title="Hearing on the foreign-agents bill", when="2027-01-20 18:00",
        description="The Senate committee hears civil society.", place="Senado, CDMX",
        audience="Full members only",
        tries=("sometime soon", "2020-01-01 10:00", "2027-03-14 02:30"))
    assert "could not read a date" in tries[0]
    assert "already passed" in tries[1]
    assert "does not exist in United States (New York) Time" in tries[2]
    assert "daylight-saving" in tries[2]
    assert "It will invite <b>4</b> organisations".replace("<b>", "").replace("</b>", "") \
        in summary.text
    draft = await last_action(bot)
    assert draft is not None and draft.status == "draft"
    assert draft.starts_at == local("2027-01-20 18:00", "America/New_York")

    emu.press(coord, summary, label="Announce")
    item = await eventually(lambda: _scheduled(bot), what="the action announced")
    await finished(bot, item.fanout_id)
    chats = await outbox_chats(bot, item.fanout_id)
    assert set(chats) == {jal.groups[0].id, norte.groups[0].id, hidden.groups[0].id,
                          solo.contact.id}  # the ally is not in the audience
    assert ally.groups[0].id not in chats

    # Each chat reads it in its own language and time zone (23:00 UTC).
    es_copy = copy_in(emu, jal.groups[0], "Hearing on the foreign-agents bill")
    assert "Acción de incidencia" in es_copy.text
    assert "mié 20 ene 2027, 17:00 (hora de México (Ciudad de México))" in es_copy.text
    en_copy = copy_in(emu, norte.groups[0], "Hearing on the foreign-agents bill")
    assert "Thu 21 Jan 2027, 00:00 (Spain (Madrid) Time)" in en_copy.text
    solo_copy = copy_in(emu, emu.private_chat(solo.contact), "foreign-agents")

    # Rule A: a member chat counts for its org whoever presses; a contact in private for theirs;
    # in an "only our contacts" org's chat, someone else is a stranger.
    text = await answered(emu, emu.press(jal.member, es_copy, label="✅ Vamos"))
    assert "quedó registrada la respuesta de su organización" in text
    await answered(emu, emu.press(norte.member, en_copy, label="🤔 Maybe"))
    await answered(emu, emu.press(solo.contact, solo_copy, label="❌ Not going"))
    hidden_copy = copy_in(emu, hidden.groups[0], "foreign-agents")
    text = await answered(emu, emu.press(hidden.member, hidden_copy, label="✅ Vamos"))
    assert "aparte" in text  # the group is Spanish: counted apart
    await answered(emu, emu.press(jal.member, es_copy, label="🤔 Tal vez"))  # latest stands
    async with bot.db.sessions() as session:
        assert await actions.rsvps(session, item.id) == {
            jal.id: "maybe", norte.id: "maybe", solo.id: "not_going"}
        strangers = (await session.execute(select(func.count()).select_from(ActionStranger)
                                           )).scalar_one()
    assert strangers == 1

    # /upcoming in a member chat shows the org's answer, in its language; no org is named.
    sent = emu.send(jal.member, "/upcoming", chat=jal.groups[0])
    upcoming = await emu.wait_for_bot_message(jal.groups[0], after=sent)
    assert "Hearing on the foreign-agents bill" in upcoming.text and "Tal vez" in upcoming.text
    sent = emu.send(coord, "/upcoming")
    mine = await text_after(emu, emu.private_chat(coord), "Coming actions", sent.message_id)
    assert "Going 0 · maybe 2 · not going 1" in mine.text
    others = [jal.groups[0], norte.groups[0], emu.private_chat(solo.contact), ally.groups[0],
              emu.private_chat(jal.contact), emu.private_chat(norte.contact)]
    read = everything_read(emu, others)
    assert "Colectivo Sombra" not in read and "Sombra" not in read
    assert (await action_row(bot, item.id)).status == "scheduled"


async def _scheduled(bot: Any) -> Any:
    found = await last_action(bot)
    return found if found is not None and found.fanout_id is not None else None


async def test_compose_in_spanish_and_announce_once(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "es")
    bot = await make_bot(coordinator_ids=(coord.id,))
    jal = await add_org(emu, bot, "Red Jalisco")
    norte = await add_org(emu, bot, "Voces del Norte", areas=("MX-CHH",))
    tries, summary = await compose(emu, coord, title="Cierre de firmas", when="2027-02-01 09:30",
                                   kind="Cierre de adhesiones", words=ES, regions="mx-jal gt",
                                   tries=("31/02/2027 10:00",))
    assert "No pude leer una fecha" in tries[0]
    assert "Recordatorios: 7 días antes, 1 día antes, 1 hora antes" in summary.text
    emu.press(coord, summary, label="Anunciar")
    emu.press(coord, summary, label="Anunciar")  # a double tap announces once
    item = await eventually(lambda: _scheduled(bot), what="the action announced")
    await finished(bot, item.fanout_id)
    await emu.wait_for(lambda: sum("ya fue anunciada" in (a[1] or "")
                                   for a in emu.callback_answers) == 1, what="the second tap")
    assert set(await outbox_chats(bot, item.fanout_id)) == {jal.groups[0].id}  # rule T
    assert item.regions == ["MX-JAL", "GT"]
    assert [m for m in emu.bot_messages(norte.groups[0]) if "Cierre" in (m.text or "")] == []
    copy = copy_in(emu, jal.groups[0], "Cierre de firmas")
    assert "lun 1 feb 2027, 09:30 (hora de México (Ciudad de México))" in copy.text
    assert "Cierre de adhesiones" in copy.text
    assert item.starts_at == local("2027-02-01 09:30", "America/Mexico_City")


async def test_an_audience_of_some_kinds(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    cso = await add_org(emu, bot, "Red Jalisco")
    foundation = await add_org(emu, bot, "Fundación Norte", kind="foundation")
    academic = await add_org(emu, bot, "Instituto Sur", kind="academic")
    _, summary = await compose(emu, coord, title="Reunión de donantes", when="2027-02-01 09:30",
                               audience="Some kinds of organisation",
                               kinds=("Foundation", "Academic institution"),
                               topics=("Taxes",))
    assert "It will invite 2 organisations in 2 chats." in summary.text
    emu.press(coord, summary, label="Announce")
    item = await eventually(lambda: _scheduled(bot), what="the action announced")
    await finished(bot, item.fanout_id)
    assert item.audience == "kinds" and item.kinds == ["foundation", "academic"]
    assert item.topics == ["tax"]
    assert set(await outbox_chats(bot, item.fanout_id)) == {foundation.groups[0].id,
                                                            academic.groups[0].id}
    assert [m for m in emu.bot_messages(cso.groups[0]) if "donantes" in (m.text or "")] == []


async def test_edit_from_the_preview(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    jal = await add_org(emu, bot, "Red Jalisco")
    chat = emu.private_chat(coord)
    _, summary = await compose(emu, coord, title="Primera", when="2027-02-01 09:30",
                               place="Sala 1")
    menu = await press(emu, coord, summary, "Edit")
    m = await press(emu, coord, menu, "Date and time")
    assert "When does it start?" in m.text
    shown = await ask(emu, coord, "2027-02-02 10:00")  # back to the preview
    assert "Tue 2 Feb 2027, 10:00" in shown.text and "Sala 1" in shown.text
    summary = await text_after(emu, chat, "It will invite", shown.message_id)
    menu = await press(emu, coord, summary, "Edit")
    await press(emu, coord, menu, "Title")
    shown = await ask(emu, coord, "Segunda")
    summary = await text_after(emu, chat, "It will invite", shown.message_id)
    emu.press(coord, summary, label="Announce")
    item = await eventually(lambda: _scheduled(bot), what="the action announced")
    await finished(bot, item.fanout_id)
    assert (item.title, item.place) == ("Segunda", "Sala 1")
    assert item.starts_at == local("2027-02-02 10:00", "America/Mexico_City")
    assert len([m for m in emu.bot_messages(jal.groups[0]) if "Segunda" in (m.text or "")]) == 1

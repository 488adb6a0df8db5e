"""Correcting and withdrawing a sent alert (issue 8) through the emulator: every chat that got
it sees the change in place with a visible mark — a member group, a contact's private chat, a
group that migrated to a supergroup since (it gets the correction as a new message), a copy its
admins deleted (a new message too); a 3-part alert corrected into 2 parts (the extra part
deleted); past 48 hours the extra part points to the corrected text; a withdrawal with its
reason; non-coordinators refused. A low-profile organisation is never named to the others."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.db.models import Fanout, MemberChat
from bot.emulator import Emulator
from tests.alert_helpers import (
    ES,
    add_org,
    alert_copies,
    compose,
    everything_read,
    progress_done,
    send,
    text_after,
)
from tests.delivery_helpers import finished
from tests.helpers import eventually
from tests.org_helpers import snapshot, started


def paragraphs(n: int, word: str = "") -> list[str]:
    return [f"Párrafo {i:03d}{word}: " + " ".join(["la ley obliga a registrar donantes"] * 2)
            for i in range(n)]


def messages_of(paras: list[str], per: int = 30) -> list[str]:
    return ["\n\n".join(paras[i:i + per]) for i in range(0, len(paras), per)]


async def fix_fanout(bot: Any, alert_id: int, number: int) -> int:
    async def found() -> int | None:
        async with bot.db.sessions() as session:
            return (await session.execute(select(Fanout.id).where(
                Fanout.key == f"alert.fix:{alert_id}:{number}"))).scalar()

    return await eventually(found, what=f"correction {number}")


async def open_status(emu: Emulator, coord: Any, needle: str) -> Any:
    chat = emu.private_chat(coord)
    listing = await text_after(emu, chat, needle[0], emu.send(coord, "/alerts").message_id)
    emu.press(coord, listing, label=needle[1])
    return await text_after(emu, chat, needle[2], listing.message_id)


async def test_a_correction_reaches_every_copy(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord)
    alfa = await add_org(emu, bot, "Alfa")
    beta = await add_org(emu, bot, "Beta", group_language="en")
    gamma = await add_org(emu, bot, "Gamma", groups=0, contact_language="en")
    low = await add_org(emu, bot, "Lambda Secreta", low_profile=True)
    old = paragraphs(96)
    _, summary = await compose(emu, coord, title="Ley", es=messages_of(old),
                               en=["Short English text."])
    alert = await send(emu, bot, coord, summary)
    before = emu.bot_messages(alfa.groups[0])
    assert len(before) == 3
    # since: Beta's group became a supergroup; Lambda's admins deleted the alert's first part
    new = emu.migrate(beta.groups[0])

    async def moved() -> bool:
        async with bot.db.sessions() as session:
            return (await session.execute(select(MemberChat.chat_id).where(
                MemberChat.org_id == beta.id))).scalar() == new.id

    await eventually(moved, what="the migration")
    emu.delete_message(emu.bot_messages(low.groups[0])[0])

    status = await open_status(emu, coord, ("Recent alerts", "Status 1", "Answered: 0 of 4"))
    chat = emu.private_chat(coord)
    emu.press(coord, status, label="Correct")
    m = await text_after(emu, chat, "Correcting the alert", status.message_id)
    corrected = paragraphs(60, " corregido")
    for part in messages_of(corrected):
        m = await text_after(emu, chat, "Added.", emu.send(coord, part).message_id)
    emu.press(coord, m, label="Done")
    m = await text_after(emu, chat, "corrected text in English", m.message_id)
    m = await text_after(emu, chat, "Added.", emu.send(coord, "Corrected English text.")
                         .message_id)
    emu.press(coord, m, label="Done")
    told = await text_after(emu, chat, "I will correct the alert in 4 chats.", m.message_id)
    emu.press(coord, told, label="Send the correction")
    fanout = await fix_fanout(bot, alert.id, 1)
    assert (await finished(bot, fanout)).counts["sent"] == 4
    await progress_done(emu, coord, "(alert.fix)")

    # Alfa (Spanish): 3 parts became 2, edited in place; the third deleted (under 48 hours)
    now = emu.bot_messages(alfa.groups[0])
    assert [m.message_id for m in now] == [m.message_id for m in before[:2]]
    assert now[0].text.startswith("✏️ Corregida el ") and now[0].edit_date
    whole = "\n".join(m.text for m in now)
    positions = [whole.index(p) for p in corrected]
    assert positions == sorted(positions) and "Párrafo 095" not in whole
    assert not now[0].buttons and [b.text for row in now[1].buttons for b in row] == \
        ["✅ Recibido"]
    # Gamma's contact (English, private): the one message edited in place
    [copy] = emu.bot_messages(emu.private_chat(gamma.contact))
    assert copy.text.startswith("✏️ Corrected on ") and "Corrected English text." in copy.text
    # the migrated group: the old copy cannot be edited there, so a correction message
    [fixed] = alert_copies(emu, new, "Corrected English text.")
    assert fixed.text.startswith("✏️ Corrected on ")
    # Lambda: the deleted part came back as a new message, the second edited, the third gone
    mine = emu.bot_messages(low.groups[0])
    assert len(mine) == 2 and "Párrafo 000 corregido" in mine[-1].text
    assert "Párrafo 059 corregido" in "\n".join(m.text for m in mine)
    readers = [alfa.groups[0], new, beta.groups[0], emu.private_chat(gamma.contact)]
    assert "Lambda" not in everything_read(emu, readers)


async def test_past_48_hours_then_withdrawn(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coordinadora", language_code="es")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord)
    alfa = await add_org(emu, bot, "Alfa")
    sam = emu.add_user("Sam", language_code="en")
    await started(emu, sam, alfa.contact)
    _, summary = await compose(emu, coord, title="Ley", es=messages_of(paragraphs(60)),
                               severity="Información", audience="Todas las organizaciones",
                               words=ES)
    alert = await send(emu, bot, coord, summary, label="Enviar")
    first, second = emu.bot_messages(alfa.groups[0])
    emu.clock.advance(49 * 3600)
    status = await open_status(emu, coord, ("Alertas recientes", "Estado 1",
                                            "Respondieron: 0 de 1"))
    chat = emu.private_chat(coord)
    emu.press(coord, status, label="Corregir")
    m = await text_after(emu, chat, "Corrigiendo la alerta", status.message_id)
    m = await text_after(emu, chat, "Agregado", emu.send(coord, "Texto corto corregido.")
                         .message_id)
    emu.press(coord, m, label="Listo")
    m = await text_after(emu, chat, "inglés", m.message_id)
    emu.press(coord, m, label="Listo")
    told = await text_after(emu, chat, "Corregiré la alerta en 1 chat.", m.message_id)
    emu.press(coord, told, label="Enviar la corrección")
    await finished(bot, await fix_fanout(bot, alert.id, 1))
    await progress_done(emu, coord, "(alert.fix)")
    one, two = emu.bot_messages(alfa.groups[0])
    assert (one.message_id, two.message_id) == (first.message_id, second.message_id)
    assert "Texto corto corregido." in one.text and one.buttons
    assert two.text.startswith("✏️ Esta parte de la alerta se quitó") and not two.buttons

    # refused to a member, a stranger; nothing changes
    status = await open_status(emu, coord, ("Alertas recientes", "Estado 1", "Corregida 1"))
    before = await snapshot(bot)
    for label in ("Corregir", "Retirar"):
        data = status.button(label).callback_data
        for user, text in ((alfa.contact, "Solo las coordinadoras pueden hacer esto."),
                           (sam, "Only coordinators can do this.")):
            q = emu.forge_callback(user, emu.private_chat(user), 1, data)
            await emu.wait_for(lambda q=q: q.answered)
            assert q.answer_text == text
    for data in (f"v1:alfc:{alert.id}", "v1:gx:alert_fix:0", "v1:gd:alert_fix:body_es"):
        q = emu.forge_callback(sam, emu.private_chat(sam), 1, data)
        await emu.wait_for(lambda q=q: q.answered)
        assert q.answer_text == "Only coordinators can do this."
    after = await snapshot(bot)
    ignore = {"people", "chats", "sent_messages"}
    assert {k: v for k, v in after.items() if k not in ignore} == \
        {k: v for k, v in before.items() if k not in ignore}

    # withdrawn, with its reason; its buttons go and a press changes nothing
    emu.press(coord, status, label="Retirar")
    m = await text_after(emu, chat, "Retirando la alerta", status.message_id)
    m = await text_after(emu, chat, "Retiraré la alerta en 1 chat.",
                         emu.send(coord, "Fue un error de fecha.").message_id)
    emu.press(coord, m, label="Retirarla")
    await finished(bot, await fix_fanout(bot, alert.id, 2))
    one = emu.message(one)
    assert one.text.startswith("⛔ Retirada el ") and "Fue un error de fecha." in one.text
    assert not one.buttons
    q = emu.forge_callback(alfa.member, alfa.groups[0], one.message_id, f"v1:aa:{alert.id}:"
                           "acknowledge")
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == "Este botón ya no es válido."


async def test_an_orphan_copy_is_counted_and_left(emu: Emulator, make_bot) -> None:
    """A copy whose send's answer was lost (rule D) has no known message id: the correction
    counts it for the coordinator and edits the copy it knows."""
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,), read_timeout=1.0)
    await started(emu, coord)
    alfa = await add_org(emu, bot, "Alfa")
    emu.faults.hold = 1.5
    lost = emu.faults.add("lost", methods={"sendMessage"}, chats={alfa.groups[0].id}, count=1)
    _, summary = await compose(emu, coord, title="Ley", es=["Texto original."])
    alert = await send(emu, bot, coord, summary)
    assert lost.fired == 1
    assert len(alert_copies(emu, alfa.groups[0], "Texto original.")) == 2
    status = await open_status(emu, coord, ("Recent alerts", "Status 1", "Answered: 0 of 1"))
    chat = emu.private_chat(coord)
    emu.press(coord, status, label="Correct")
    m = await text_after(emu, chat, "Correcting the alert", status.message_id)
    m = await text_after(emu, chat, "Added.", emu.send(coord, "Texto corregido.").message_id)
    emu.press(coord, m, label="Done")
    m = await text_after(emu, chat, "corrected text in English", m.message_id)
    emu.press(coord, m, label="Done")
    told = await text_after(emu, chat, "I will correct the alert in 1 chat.", m.message_id)
    assert "1 copy cannot be reached" in told.text
    emu.press(coord, told, label="Send the correction")
    await finished(bot, await fix_fanout(bot, alert.id, 1))
    orphan, edited = [m for m in emu.bot_messages(alfa.groups[0]) if "Ley" in (m.text or "")]
    assert "Texto original." in orphan.text and "Texto corregido." in edited.text

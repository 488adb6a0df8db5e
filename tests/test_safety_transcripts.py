"""Rule Q's promise, read from every transcript: a low-profile organisation is never named in a
message another member receives. The scenario uses everything members and coordinators can do
so far; each later capability adds its part here (its own tests include a low-profile org too).
"""

from __future__ import annotations

import pytest

from bot.emulator import Emulator
from tests.org_helpers import ask, make_org
from tests.registration_helpers import ES_ANSWERS, fill, wait_text

SECRET = "Colectivo Zafiro Norte"


@pytest.fixture(autouse=True)
def fast_clock(emu: Emulator) -> None:
    emu.clock.scale = 3.0


def everything_in(emu: Emulator, chat) -> str:
    """Every text a chat shows: messages, captions, buttons and documents' contents."""
    parts = []
    for message in emu.transcript(chat):
        parts += [message.text or "", message.caption or ""]
        parts += [b.text for row in (message.buttons or []) for b in row]
        if message.document is not None:
            parts.append(message.document.content.decode("utf-8", "replace"))
    return "\n".join(parts)


async def test_a_low_profile_org_is_named_to_nobody_else(emu: Emulator, make_bot) -> None:
    coco = emu.add_user("Coco", language_code="es")
    service = await make_bot(coordinator_ids=(coco.id,))
    await ask(emu, coco, "/start")

    # Ana registers her organisation and asks for a low profile while it is pending.
    ana = emu.add_user("Ana", language_code="es")
    await ask(emu, ana, "/start")
    first = await ask(emu, ana, "/register")
    answers = [("text", SECRET), *ES_ANSWERS[1:]]
    summary = await fill(emu, ana, first, answers)
    emu.press(ana, summary, label="Enviar")
    request = await wait_text(emu, emu.private_chat(coco), "Nueva solicitud de registro")
    await wait_text(emu, emu.private_chat(ana), "se envió a las coordinadoras")
    menu = await ask(emu, ana, "/lowprofile")
    emu.press(ana, menu, label="Activar")
    await emu.wait_for(lambda: "Activado" in emu.message(menu).text, what="low profile on")
    emu.press(ana, emu.message(menu), label="Poner un alias")
    await emu.wait_for(lambda: any(m.text.startswith("Escribe el alias")
                                   for m in emu.bot_messages(emu.private_chat(ana))),
                       what="the alias prompt")
    await ask(emu, ana, "Red Uno")
    emu.press(coco, request, label="Aprobar")
    await wait_text(emu, emu.private_chat(ana), "aprob")
    zafiro_group = emu.add_group("Zafiro interno", members=[ana], admins=[ana])
    emu.add_bot(zafiro_group, by=ana)
    await ask(emu, ana, "/link", chat=zafiro_group)
    await ask(emu, ana, "/profile")
    await ask(emu, ana, "/contacts")

    # Bo's organisation and group, and a stranger, use everything members can.
    bo = emu.add_user("Bo", language_code="en")
    ceci = emu.add_user("Ceci", language_code="es")
    await make_org(service, bo.id, "Red Ámbar", coordinator=coco.id)
    amber_group = emu.add_group("Ámbar", members=[bo, ceci], admins=[bo])
    emu.add_bot(amber_group, by=bo)
    for text in ("/start", "/help", "/profile", "/contacts", "/privacy", "/members",
                 "/members state=MX-JAL", "/export", "/pending", "/invite", "/lowprofile 1"):
        await ask(emu, bo, text)
    for text in ("/link", "/help", "/privacy"):
        await ask(emu, bo, text, chat=amber_group)
    for text in ("/start", "/help", "/register", "/cancel", "/members", "/lowprofile 1"):
        await ask(emu, ceci, text)
    await ask(emu, ceci, "/help", chat=amber_group)

    # Coordinators see it by name: that is their view.
    members = await ask(emu, coco, "/members")
    assert SECRET in members.text
    await ask(emu, coco, "/export")
    await emu.wait_for(lambda: any(m.document for m in emu.transcript(emu.private_chat(coco))),
                       what="the export")
    assert SECRET in everything_in(emu, emu.private_chat(coco))

    for chat in (emu.private_chat(bo), emu.private_chat(ceci), amber_group):
        seen = everything_in(emu, chat)
        assert seen, "the scenario reached this chat"
        assert "Zafiro" not in seen, (chat.id, seen)

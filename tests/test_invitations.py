"""Invitations: /invite by coordinators (a named org, active at submit) and by contacts (a
colleague joins their org); unknown, expired and reused links change nothing."""

from __future__ import annotations

import re

import pytest

from bot.db.models import Contact, Invitation, Organisation
from bot.emulator import Emulator
from tests.helpers import swept
from tests.registration_helpers import ask, counts, fill, make_org, press, rows

LINK = re.compile(r"https://t\.me/coalition_test_bot\?start=(inv_[A-Za-z0-9_-]+)")


@pytest.fixture(autouse=True)
def fast_clock(emu: Emulator) -> None:
    emu.clock.scale = 3.0  # callback queries live 15 emulated s: 5 wall s


def payload_of(message) -> str:
    found = LINK.search(message.text)
    assert found, message.text
    return found.group(1)


async def test_named_invitation_makes_an_active_org_without_approval(
        emu: Emulator, make_bot) -> None:
    coco = emu.add_user("Coco", language_code="es", user_id=2**33 + 5)
    service = await make_bot(coordinator_ids=(coco.id,))
    await ask(emu, coco, "/start")
    answer = await ask(emu, coco, "/invite ally Red de <Defensoras>")
    assert "Invitación para Red de <Defensoras>" in answer.text
    assert "&lt;Defensoras&gt;" in answer.html
    payload = payload_of(answer)

    ana = emu.add_user("Ana", language_code="es", user_id=2**33 + 6)
    first = await ask(emu, ana, f"/start {payload}")
    assert "¿Qué tipo de organización es?" in first.text  # name and tier are prefilled
    summary = await fill(emu, ana, first, [
        ("press", "Colectivo activista"), ("press", "Nacional"), ("press", "Guatemala"),
        ("toggle", ([], "Listo")), ("toggle", ([], "Listo")),
        ("press", "Español"), ("press", "Solo nuestros contactos")])
    assert "Red de <Defensoras>" in summary.text and "Aliada" in summary.text
    done = await press(emu, ana, summary, "Enviar")
    assert "Red de <Defensoras> ya es miembro de la coalición" in done.text
    [org] = await rows(service, Organisation)
    assert (org.name, org.tier, org.status, org.decided_by, org.areas) == (
        "Red de <Defensoras>", "ally", "active", coco.id, ["GT"])
    assert org.approval_fanout_id is None
    [invitation] = await rows(service, Invitation)
    assert invitation.used_by == ana.id
    assert not any("Nueva solicitud" in (m.text or "")
                   for m in emu.bot_messages(emu.private_chat(coco)))
    menu = await ask(emu, ana, "/pending")
    assert menu.text == "Solo las coordinadoras pueden hacer esto."


async def test_expired_reused_and_unknown_invitations_change_nothing(
        emu: Emulator, make_bot) -> None:
    coco = emu.add_user("Coco", language_code="en")
    service = await make_bot(coordinator_ids=(coco.id,))
    await ask(emu, coco, "/start")
    old = payload_of(await ask(emu, coco, "/invite member Red Sur"))
    emu.clock.advance(8 * 24 * 3600)
    await swept(service)  # the week's coordinators' digest goes out before the next /invite
    fresh = payload_of(await ask(emu, coco, "/invite"))

    ana = emu.add_user("Ana", language_code="es")
    before = await counts(service)
    expired = await ask(emu, ana, f"/start {old}")
    assert expired.text == "Esta invitación caducó. Por favor, pide una nueva."
    unknown = await ask(emu, ana, "/start inv_doesnotexist")
    assert "No conozco esta invitación" in unknown.text
    assert await counts(service) == before

    john = emu.add_user("John", language_code="en")
    started = await ask(emu, john, f"/start {fresh}")
    assert "What is your organisation's name?" in started.text
    before = await counts(service)
    reused = await ask(emu, ana, f"/start {fresh}")
    assert reused.text == "Esta invitación ya se usó. Por favor, pide una nueva."
    assert await counts(service) == before
    invitations = {i.code: i for i in await rows(service, Invitation)}
    assert invitations[old.removeprefix("inv_")].used_by is None
    assert invitations[fresh.removeprefix("inv_")].used_by == john.id


async def test_a_contact_invites_a_colleague(emu: Emulator, make_bot) -> None:
    coco = emu.add_user("Coco", language_code="en")
    service = await make_bot(coordinator_ids=(coco.id,))
    mia = emu.add_user("Mia", language_code="en", user_id=2**33 + 7)
    org_id = await make_org(service, mia.id, "Mia & Friends", approved_by=coco.id)
    await ask(emu, mia, "/start")
    before = await counts(service)
    refused = await ask(emu, mia, "/invite ally Another Org")
    assert "Only coordinators can invite a new organisation" in refused.text
    assert await counts(service) == before
    answer = await ask(emu, mia, "/invite")
    assert "Invitation for Mia & Friends." in answer.text
    payload = payload_of(answer)
    leo = emu.add_user("Leo", language_code="es")
    joined = await ask(emu, leo, f"/start {payload}")
    assert "Ahora eres contacto de Mia & Friends" in joined.text
    contacts = {(c.user_id, c.org_id) for c in await rows(service, Contact)}
    assert contacts == {(mia.id, org_id), (leo.id, org_id)}
    again = await ask(emu, leo, "/invite")  # now a contact too
    assert "Invitación para Mia & Friends" in again.text


async def test_invite_refused_to_strangers_pending_contacts_and_anonymous_admins(
        emu: Emulator, make_bot) -> None:
    coco = emu.add_user("Coco", language_code="en")
    admin = emu.add_user("Ada", language_code="en")
    group = emu.add_group("Red", members=[coco, admin], admins=[coco, admin], supergroup=True)
    service = await make_bot(coordinator_ids=(coco.id,))
    emu.add_bot(group, by=coco)
    sam = emu.add_user("Sam", language_code="es")
    pat = emu.add_user("Pat", language_code="en")
    await make_org(service, pat.id, "Pending Org")
    before = await counts(service)
    stranger = await ask(emu, sam, "/invite")
    assert stranger.text == ("Solo las coordinadoras y los contactos de organizaciones miembro "
                             "pueden invitar.")
    assert "Only coordinators and contacts" in (await ask(emu, pat, "/invite member X Y")).text
    sent = emu.send(admin, "/invite", chat=group, anonymous=True)
    anonymous = await emu.wait_for_bot_message(group, after=sent)
    assert "administrador anónimo" in anonymous.text  # the group speaks Spanish (default)
    in_group = await ask(emu, coco, "/invite", chat=group)
    assert in_group.text == "Por favor, envíame /invite en un chat privado."
    usage = await ask(emu, coco, "/invite friend Red")
    assert "Use /invite alone" in usage.text
    assert await counts(service) == before

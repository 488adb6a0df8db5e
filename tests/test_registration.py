"""/register: a guided flow kept in the database, checked at each step, submitted for approval;
coordinators approve or reject (first decision wins), /pending lists what waits."""

from __future__ import annotations

import pytest

from bot.db.models import AuditEntry, Contact, Conversation, Organisation
from bot.emulator import Emulator
from tests.registration_helpers import (
    EN_ANSWERS,
    ES_ANSWERS,
    ask,
    counts,
    fill,
    make_org,
    press,
    rows,
    wait_text,
)


@pytest.fixture(autouse=True)
def fast_clock(emu: Emulator) -> None:
    """Rate windows pass faster (the bot's clock follows the emulator's scale)."""
    emu.clock.scale = 3.0  # callback queries live 15 emulated s: 5 wall s


async def conversation(service, user_id: int) -> Conversation | None:
    async with service.db.sessions() as session:
        return await session.get(Conversation, (user_id, user_id))


async def test_registration_in_english_reaches_the_coordinators(emu: Emulator, make_bot) -> None:
    coordinator = emu.add_user("Coco", language_code="en", user_id=2**33 + 5)
    service = await make_bot(coordinator_ids=(coordinator.id,))
    await ask(emu, coordinator, "/start")
    john = emu.add_user("John", language_code="en", user_id=2**33 + 6)
    first = await ask(emu, john, "/register")
    assert "What is your organisation's name?" in first.text
    summary = await fill(emu, john, first, EN_ANSWERS)
    assert "Please check your registration" in summary.text
    assert "Red <Jalisco> & Co" in summary.text and "&lt;Jalisco&gt;" in summary.html
    assert "Jalisco, Oaxaca" in summary.text and "Capacities: none" in summary.text
    emu.press(john, summary, label="Submit")
    done = await emu.wait_for_bot_message(emu.private_chat(john), after=summary)
    assert "was sent to the coordinators" in done.text
    request = await wait_text(emu, emu.private_chat(coordinator), "New registration request")
    assert "Red <Jalisco> & Co" in request.text and "&lt;Jalisco&gt;" in request.html
    assert [b.text for b in request.buttons[0]] == ["Approve", "Reject"]
    [org] = await rows(service, Organisation)
    assert (org.name, org.kind, org.tier, org.scope, org.status) == (
        "Red <Jalisco> & Co", "cso", "member", "state", "pending")
    assert sorted(org.areas) == ["MX-JAL", "MX-OAX"] and org.topics == ["tax"]
    assert org.capacities == [] and org.language == "en" and org.only_contacts_answer is True
    assert org.approval_fanout_id is not None
    assert [(c.user_id, c.org_id) for c in await rows(service, Contact)] == [(john.id, org.id)]
    assert await conversation(service, john.id) is None


async def test_registration_in_spanish_goes_to_the_coordination_supergroup(
        emu: Emulator, make_bot) -> None:
    coordinator = emu.add_user("Coco", language_code="es")
    group = emu.add_group("Coordinación", members=[coordinator], admins=[coordinator],
                          supergroup=True)
    assert str(group.id).startswith("-100")
    service = await make_bot(coordinator_ids=(coordinator.id,), coordination_chat_id=group.id)
    emu.add_bot(group, by=coordinator)
    ana = emu.add_user("Ana", language_code="es")
    first = await ask(emu, ana, "/register")
    assert "¿Cómo se llama tu organización?" in first.text
    summary = await fill(emu, ana, first, ES_ANSWERS)
    assert "Revisa tu registro" in summary.text and "Guatemala, Honduras" in summary.text
    emu.press(ana, summary, label="Enviar")
    done = await emu.wait_for_bot_message(emu.private_chat(ana), after=summary)
    assert "se envió a las coordinadoras" in done.text
    request = await wait_text(emu, group, "Nueva solicitud de registro")
    assert "Colectivo Tierra" in request.text
    assert [b.text for b in request.buttons[0]] == ["Aprobar", "Rechazar"]
    assert emu.bot_messages(emu.private_chat(coordinator)) == []
    [org] = await rows(service, Organisation)
    assert (org.kind, org.tier, org.scope, sorted(org.areas)) == (
        "activist", "ally", "regional", ["GT", "HN"])
    assert org.capacities == ["legal"] and org.only_contacts_answer is False


async def test_bad_answers_get_the_reason_and_the_question_again(emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    await ask(emu, ana, "/register")
    bad = await ask(emu, ana, "X")
    assert "Ese nombre no se puede usar" in bad.text and "¿Cómo se llama" in bad.text
    state = await conversation(bot, ana.id)
    assert state.step == "name" and state.data["draft"]["name"] is None
    kind_question = await ask(emu, ana, "Red Oaxaca")
    assert "¿Qué tipo de organización es?" in kind_question.text

    # Free text where buttons answer.
    again = await ask(emu, ana, "una fundación")
    assert "responde con los botones" in again.text and "¿Qué tipo" in again.text
    # A forged kind that decodes but is not a kind.
    emu.forge_callback(ana, emu.private_chat(ana), kind_question.message_id,
                       "v1:gc:register:kind:bank")
    forged = await emu.wait_for_bot_message(emu.private_chat(ana), after=again)
    assert "Esa no es una de las opciones" in forged.text and "¿Qué tipo" in forged.text
    # Malformed data and a button of another step: "no longer valid", nothing changes.
    before = await counts(bot)
    for data in ("v1:gc:register:kind", "v1:zz:1", "v1:gc:register:tier:member",
                 "v1:gd:register:areas", "v1:rs"):
        query = emu.forge_callback(ana, emu.private_chat(ana), kind_question.message_id, data)
        await emu.wait_for(lambda q=query: q.answered, what="the answer to a bad press")
        assert query.answer_text == "Este botón ya no es válido."
    state = await conversation(bot, ana.id)
    assert state.step == "kind" and state.data["draft"]["kind"] is None
    assert await counts(bot) == before

    tier = await press(emu, ana, forged, "Fundación")
    scope = await press(emu, ana, tier, "Integrante plena")
    areas = await press(emu, ana, scope, "Estatal")
    assert "¿En qué estados de México" in areas.text
    # Done with no state selected.
    emu.press(ana, areas, label="Listo")
    none = await emu.wait_for_bot_message(emu.private_chat(ana), after=areas)
    assert "Primero elige al menos un estado" in none.text and "¿En qué estados" in none.text
    state = await conversation(bot, ana.id)
    assert state.step == "areas" and state.data["draft"]["areas"] == []
    # The old scope button is no longer valid.
    query = emu.press(ana, scope, label="Nacional")
    await emu.wait_for(lambda: query.answered)
    assert query.answer_text == "Este botón ya no es válido."
    assert (await conversation(bot, ana.id)).data["draft"]["scope"] == "state"
    assert await rows(bot, Organisation) == []


async def test_regional_needs_two_countries(emu: Emulator, bot) -> None:
    john = emu.add_user("John", language_code="en")
    first = await ask(emu, john, "/register")
    areas = await fill(emu, john, first, [
        ("text", "Andes Net"), ("press", "Foundation"), ("press", "Ally"),
        ("press", "Regional (Latin America)")])
    emu.press(john, areas, label="Peru")
    await emu.wait_for(lambda: any(b.text == "✅ Peru" for r in emu.message(areas).buttons
                                   for b in r))
    emu.press(john, areas, label="Done")
    refused = await emu.wait_for_bot_message(emu.private_chat(john), after=areas)
    assert "Choose at least two countries first." in refused.text
    assert (await conversation(bot, john.id)).data["draft"]["areas"] == ["PE"]


async def test_cancel_midway_keeps_nothing(emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    first = await ask(emu, ana, "/register")
    tier = await fill(emu, ana, first, [("text", "Red Oaxaca"), ("press", "Fundación")])
    cancelled = await ask(emu, ana, "/cancel")
    assert cancelled.text == "Cancelado. No se cambió nada."
    query = emu.press(ana, tier, label="Aliada")
    await emu.wait_for(lambda: query.answered)
    assert query.answer_text == "Este botón ya no es válido."
    assert await conversation(bot, ana.id) is None
    assert await rows(bot, Organisation) == [] and await rows(bot, Contact) == []


async def test_cancel_button_on_the_summary(emu: Emulator, bot) -> None:
    john = emu.add_user("John", language_code="en")
    first = await ask(emu, john, "/register")
    summary = await fill(emu, john, first, EN_ANSWERS)
    gone = await press(emu, john, summary, "Cancel")
    assert gone.text == "Cancelled. Nothing was changed."
    assert await rows(bot, Organisation) == [] and await conversation(bot, john.id) is None


async def test_a_restart_midway_continues(emu: Emulator, make_bot) -> None:
    first_bot = await make_bot()
    ana = emu.add_user("Ana", language_code="es")
    first = await ask(emu, ana, "/register")
    areas = await fill(emu, ana, first, [("text", "Red Oaxaca"), ("press", "Fundación"),
                                          ("press", "Aliada"), ("press", "Estatal")])
    emu.press(ana, areas, label="Oaxaca")
    await emu.wait_for(lambda: any(b.text == "✅ Oaxaca" for r in emu.message(areas).buttons
                                   for b in r))
    await first_bot.stop()

    second = await make_bot()
    summary = await fill(emu, ana, areas, [("toggle", (["Yucatán"], "Listo")),
                                           ("toggle", ([], "Listo")), ("toggle", ([], "Listo")),
                                           ("press", "English"),
                                           ("press", "Solo nuestros contactos")])
    assert "Oaxaca, Yucatán" in summary.text
    emu.press(ana, summary, label="Enviar")
    await emu.wait_for_bot_message(emu.private_chat(ana), after=summary)
    [org] = await rows(second, Organisation)
    assert org.name == "Red Oaxaca" and org.areas == ["MX-OAX", "MX-YUC"]
    assert org.status == "pending" and org.language == "en"


async def test_register_in_a_group_continues_in_private(emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    group = emu.add_group("Red Jalisco", members=[ana], admins=[ana])
    emu.add_bot(group, by=ana)
    answer = await ask(emu, ana, "/register", chat=group)
    assert "continúa en un chat privado" in answer.text
    [[button]] = answer.buttons
    assert button.url == "https://t.me/coalition_test_bot?start=register"
    first = await ask(emu, ana, "/start register")
    assert "¿Cómo se llama tu organización?" in first.text
    assert (await conversation(bot, ana.id)).step == "name"


async def test_a_contact_cannot_register_again_and_strangers_are_limited(
        emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    await make_org(bot, ana.id, "Red Oaxaca")
    refused = await ask(emu, ana, "/register")
    assert "Ya representas a una organización" in refused.text
    assert await conversation(bot, ana.id) is None

    john = emu.add_user("John", language_code="en")
    async with bot.db.transaction() as session:
        from bot.services.membership import membership
        for n in range(3):
            org = await membership.register(session, _draft(f"Org {n}"), john.id,
                                            bot.clock.now())
            await membership.decide(session, org.id, 1, False, bot.clock.now(), "no")
    first = await ask(emu, john, "/register")
    summary = await fill(emu, john, first, EN_ANSWERS)
    before = await counts(bot)
    too_many = await press(emu, john, summary, "Submit")
    assert "too many registrations today" in too_many.text
    after = await counts(bot)
    assert after["organisations"] == before["organisations"]
    assert after["conversations"] == before["conversations"] - 1


def _draft(name: str):
    from tests.registration_helpers import draft
    return draft(name)


# --- approval -------------------------------------------------------------------------------------

async def submitted(emu: Emulator, applicant, answers=EN_ANSWERS, submit="Submit"):
    first = await ask(emu, applicant, "/register")
    summary = await fill(emu, applicant, first, answers)
    return await press(emu, applicant, summary, submit)


async def test_two_concurrent_approvals_make_one_decision(emu: Emulator, make_bot) -> None:
    coco = emu.add_user("Coco", language_code="es")
    dora = emu.add_user("Dora", language_code="en", user_id=2**33 + 9)
    service = await make_bot(coordinator_ids=(coco.id, dora.id))
    await ask(emu, coco, "/start")
    await ask(emu, dora, "/start")
    john = emu.add_user("John", language_code="en")
    await submitted(emu, john)
    first = await wait_text(emu, emu.private_chat(coco), "Nueva solicitud de registro")
    second = await wait_text(emu, emu.private_chat(dora), "New registration request")
    q1 = emu.press(coco, first, label="Aprobar")
    q2 = emu.press(dora, second, label="Approve")
    await emu.wait_for(lambda: q1.answered and q2.answered, what="both presses answered")
    told = await wait_text(emu, emu.private_chat(john), "Good news")
    assert "Red <Jalisco> & Co" in told.text
    await wait_text(emu, emu.private_chat(coco), "Aprobada por")
    await wait_text(emu, emu.private_chat(dora), "Approved by")
    [org] = await rows(service, Organisation)
    assert org.status == "active" and org.decided_by in (coco.id, dora.id)
    decider = "Coco" if org.decided_by == coco.id else "Dora"
    assert f"Aprobada por {decider}" in emu.message(first).text
    assert f"Approved by {decider}" in emu.message(second).text
    assert emu.message(first).buttons == [] and emu.message(second).buttons == []
    audits = [a.action for a in await rows(service, AuditEntry)]
    assert audits.count("org.approved") == 1
    good_news = [m for m in emu.bot_messages(emu.private_chat(john)) if "Good news" in m.text]
    assert len(good_news) == 1
    help_text = await ask(emu, john, "/pending")
    assert help_text.text == "Only coordinators can do this."  # a member, not a coordinator


async def test_rejection_in_the_coordination_group_reaches_the_applicant(
        emu: Emulator, make_bot) -> None:
    coco = emu.add_user("Coco", language_code="es")
    group = emu.add_group("Coordinación", members=[coco], admins=[coco], supergroup=True)
    service = await make_bot(coordinator_ids=(coco.id,), coordination_chat_id=group.id)
    emu.add_bot(group, by=coco)
    ana = emu.add_user("Ana", language_code="es")
    await submitted(emu, ana, ES_ANSWERS, "Enviar")
    request = await wait_text(emu, group, "Nueva solicitud de registro")
    emu.press(coco, request, label="Rechazar")
    asked = await emu.wait_for_bot_message(group, after=request)
    assert "¿Por qué se rechaza" in asked.text
    assert "force_reply" in str(asked.reply_markup) or any(
        r.method == "sendMessage" and "force_reply" in str(r.params.get("reply_markup"))
        for r in emu.requests)
    [org] = await rows(service, Organisation)
    assert org.status == "pending"
    answer = emu.send(coco, "Falta <b>acta</b> constitutiva", chat=group, reply_to=asked)
    done = await emu.wait_for_bot_message(group, after=answer)
    assert "Rechazada. Se comunicó tu motivo" in done.text
    told = await wait_text(emu, emu.private_chat(ana), "no fue aprobada")
    assert "Falta <b>acta</b> constitutiva" in told.text and "&lt;b&gt;" in told.html
    await wait_text(emu, group, "Rechazada por Coco")
    [org] = await rows(service, Organisation)
    assert org.status == "rejected" and org.decision_reason == "Falta <b>acta</b> constitutiva"
    assert await rows(service, Conversation) == []


async def test_pending_lists_and_decides(emu: Emulator, make_bot) -> None:
    coco = emu.add_user("Coco", language_code="en")
    service = await make_bot(coordinator_ids=(coco.id,))
    await ask(emu, coco, "/start")
    empty = await ask(emu, coco, "/pending")
    assert empty.text == "No registration is waiting for a decision."
    ana = emu.add_user("Ana", language_code="es")
    bea = emu.add_user("Bea", language_code="es")
    await ask(emu, ana, "/start")
    first = await make_org(service, ana.id, "Red <Oaxaca>")
    emu.clock.advance(3 * 3600)
    await make_org(service, bea.id, "Fundación Sur", kind="foundation", tier="ally")
    listing = await ask(emu, coco, "/pending")
    assert "1. Red <Oaxaca>: Civil-society organisation, Full member, State; waiting 3 hours" \
        in listing.text
    assert "2. Fundación Sur: Foundation, Ally, State" in listing.text
    assert [b.text for b in listing.buttons[0]] == ["Approve 1", "Reject 1"]
    emu.press(coco, listing, label="Approve 1")
    told = await wait_text(emu, emu.private_chat(ana), "Buenas noticias")
    assert "Red <Oaxaca>" in told.text
    async with service.db.sessions() as session:
        assert (await session.get(Organisation, first)).status == "active"
    again = await ask(emu, coco, "/pending")
    assert "Fundación Sur" in again.text and "Red <Oaxaca>" not in again.text


async def test_coordinator_commands_and_buttons_refused_to_others(emu: Emulator, make_bot) -> None:
    coco = emu.add_user("Coco", language_code="en")
    member = emu.add_user("Mia", language_code="en")
    stranger = emu.add_user("Sam", language_code="es")
    admin = emu.add_user("Ada", language_code="en")
    group = emu.add_group("Coordination", members=[coco, member, stranger, admin],
                          admins=[coco, admin], supergroup=True)
    service = await make_bot(coordinator_ids=(coco.id,), coordination_chat_id=group.id)
    emu.add_bot(group, by=coco)
    await make_org(service, member.id, "Mia's org", approved_by=coco.id)
    applicant = emu.add_user("Ana", language_code="es")
    await submitted(emu, applicant, ES_ANSWERS, "Enviar")
    request = await wait_text(emu, group, "Nueva solicitud")
    before = await counts(service)

    for person, expected in ((member, "Only coordinators can do this."),
                             (stranger, "Solo las coordinadoras pueden hacer esto.")):
        answer = await ask(emu, person, "/pending")
        assert answer.text == expected
        answer = await ask(emu, person, "/pending", chat=group)
        assert "pueden hacer esto" in answer.text
        for label in ("Aprobar", "Rechazar"):
            query = emu.press(person, request, label=label)
            await emu.wait_for(lambda q=query: q.answered)
            assert query.show_alert and "coordinadoras" in query.answer_text
    sent = emu.send(admin, "/pending", chat=group, anonymous=True)
    anonymous = await emu.wait_for_bot_message(group, after=sent)
    assert "Escribes como administrador anónimo" in anonymous.text
    assert await counts(service) == before
    [_, org] = sorted(await rows(service, Organisation), key=lambda o: o.id)
    assert org.status == "pending"
    assert "Aprobada por" not in emu.message(request).text


async def test_requests_go_to_reachable_coordinators_only(emu: Emulator, make_bot) -> None:
    from bot.db.models import Coordinator, OutboxRow

    configured = emu.add_user("Coco", language_code="en")
    silent = emu.add_user("Silent", language_code="en")  # never opened the chat: unreachable
    added = emu.add_user("Added", language_code="es", user_id=2**33 + 11)
    service = await make_bot(coordinator_ids=(configured.id, silent.id))
    async with service.db.transaction() as session:
        session.add(Coordinator(user_id=added.id, added_by=configured.id,
                                added_at=service.clock.now()))
    await ask(emu, configured, "/start")
    await ask(emu, added, "/start")
    john = emu.add_user("John", language_code="en")
    await submitted(emu, john)
    await wait_text(emu, emu.private_chat(configured), "New registration request")
    await wait_text(emu, emu.private_chat(added), "Nueva solicitud de registro")
    outbox_rows = await rows(service, OutboxRow)
    assert sorted(r.chat_id for r in outbox_rows) == sorted([configured.id, added.id])
    assert emu.bot_messages(emu.private_chat(silent)) == []

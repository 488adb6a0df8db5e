"""Sign-on statements (issue 8) through the emulator, in both languages: an alert with a
statement (Spanish and English), a signing deadline and a minimum of 3 signatures; *We sign on*
asks the presser's contact in private for the name and a confirmation; a member who is not a
contact is refused; an organisation signs once; the coordinators' CSV lists every signatory and
the text ready to publish (only once 3 signed) counts the low-profile one without naming it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db.models import Alert, AlertAnswer, AlertSignature, AlertTarget
from bot.emulator import Emulator
from bot.services.alerts import statements
from bot.services.safety import erasure
from tests.alert_helpers import (
    add_org,
    alert_copies,
    compose,
    everything_read,
    send,
    text_after,
)
from tests.helpers import eventually, updates_handled
from tests.org_helpers import snapshot, started

ZONE = ZoneInfo("America/Mexico_City")


async def sign(emu: Emulator, user: Any, copy: Any, label: str, name: str,
               words: tuple[str, str, str]) -> Any:
    """Press *We sign on* under the copy; answer the private questions; return the last reply."""
    q = emu.press(user, copy, label=label)
    await emu.wait_for(lambda: q.answered)
    chat = emu.private_chat(user)
    asked = await text_after(emu, chat, words[0], 0)
    confirm = await text_after(emu, chat, words[1], emu.send(user, name).message_id)
    emu.press(user, confirm, label=words[2])
    return await text_after(emu, chat, name, confirm.message_id) if asked else None


async def handled(bot: Any) -> None:
    """Wait until every saved update has been handled (its replies are sent)."""
    await eventually(lambda: updates_handled(bot), what="the updates handled")


async def signatures_view(emu: Emulator, coord: Any, status: Any) -> tuple[list[dict], Any]:
    chat = emu.private_chat(coord)
    last = emu.bot_messages(chat)[-1].message_id
    emu.press(coord, status, label="Signatures")
    summary = await text_after(emu, chat, "signatures</b>".removesuffix("</b>"), last)
    doc = next(m for m in emu.bot_messages(chat) if m.message_id > last and m.document)
    assert doc.document.filename.startswith("signatures-alert-")
    rows = list(csv.DictReader(io.StringIO(doc.document.content.decode("utf-8-sig"))))
    return rows, summary


async def test_a_statement_signed_by_three_and_published(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord)
    alfa = await add_org(emu, bot, "Alfa")
    beta = await add_org(emu, bot, "Beta", group_language="en", contact_language="en")
    low = await add_org(emu, bot, "Lambda Secreta", low_profile=True)
    delta = await add_org(emu, bot, "Delta")
    sam = emu.add_user("Sam", language_code="en")
    await started(emu, sam)
    closes = datetime.fromtimestamp(emu.clock.now(), ZONE).replace(second=0, microsecond=0) \
        + timedelta(days=2)
    _, summary = await compose(emu, coord, title="Carta", es=["Texto de la alerta."],
                               asks=("Received", "We sign on"),
                               statement_es=["Nos oponemos a la ley."],
                               statement_en=["We oppose the law."],
                               sign_deadline=closes.strftime("%Y-%m-%d %H:%M"),
                               min_signatures="3")
    assert "at least 3 signatures" in summary.text
    alert = await send(emu, bot, coord, summary)
    [in_alfa] = alert_copies(emu, alfa.groups[0], "Texto de la alerta.")
    assert "✍️ Declaración para firmar:\nNos oponemos a la ley." in in_alfa.text
    [in_beta] = alert_copies(emu, beta.groups[0], "Texto de la alerta.")
    assert "✍️ Statement to sign:\nWe oppose the law." in in_beta.text

    # a member who is not a contact cannot sign; nothing is recorded
    q = emu.press(alfa.member, in_alfa, label="✍️ Nos sumamos")
    await emu.wait_for(lambda: q.answered)
    assert "Solo los contactos" in q.answer_text
    # the contact signs in private (Spanish), then once only
    es = ("envíe el nombre", "¿Firmar la declaración", "Firmar")
    done = await sign(emu, alfa.contact, in_alfa, "✍️ Nos sumamos", "Alfa A.C.", es)
    assert done.text == "Firmado: Alfa firma la declaración como “Alfa A.C.”. Gracias."
    q = emu.press(alfa.contact, in_alfa, label="✍️ Nos sumamos")
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == "Su organización ya firmó esta declaración, como “Alfa A.C.”."
    en = ("send the name", "Sign the statement", "Sign")
    done = await sign(emu, beta.contact, in_beta, "✍️ We sign on", "Beta Network", en)
    assert done.text == "Signed: Beta signs the statement as “Beta Network”. Thank you."

    chat = emu.private_chat(coord)
    listing = await text_after(emu, chat, "Recent alerts", emu.send(coord, "/alerts").message_id)
    emu.press(coord, listing, label="Status 1")
    status = await text_after(emu, chat, "Answered: 2 of 4", listing.message_id)
    rows, told = await signatures_view(emu, coord, status)
    assert [r["signed_as"] for r in rows] == ["Alfa A.C.", "Beta Network"]
    assert "1 more signature is needed" in told.text
    # Two of three: once the press is handled, no text ready to publish reached the coordinator.
    await handled(bot)
    assert "Firman:" not in everything_read(emu, [chat])
    assert "Signed by:" not in everything_read(emu, [chat])

    [in_low] = alert_copies(emu, low.groups[0], "Texto de la alerta.")
    await sign(emu, low.contact, in_low, "✍️ Nos sumamos", "Colectivo Lambda", es)
    rows, told = await signatures_view(emu, coord, status)
    assert {(r["organisation"], r["signed_as"], r["low_profile"]) for r in rows} == {
        ("Alfa", "Alfa A.C.", "no"), ("Beta", "Beta Network", "no"),
        ("Lambda Secreta", "Colectivo Lambda", "yes")}
    assert "Ready to publish" in told.text
    es_text = (await text_after(emu, chat, "Firman:", told.message_id)).text
    en_text = (await text_after(emu, chat, "Signed by:", told.message_id)).text
    assert "Nos oponemos a la ley." in es_text and "We oppose the law." in en_text
    for text in (es_text, en_text):
        assert "• Alfa A.C.\n• Beta Network" in text
        assert "Lambda" not in text and "Delta" not in text
    assert "…y 1 organización más que firmó sin ser nombrada." in es_text
    assert "…and 1 more organisation that signed without being named." in en_text
    async with bot.db.sessions() as session:
        signed = (await session.execute(select(AlertSignature.org_id, AlertSignature.signer_id)
                                        .where(AlertSignature.alert_id == alert.id))).all()
        answers = dict((await session.execute(select(AlertAnswer.org_id, AlertAnswer.answer)
                                              .where(AlertAnswer.alert_id == alert.id))).all())
    assert sorted(signed) == sorted([(alfa.id, alfa.contact.id), (beta.id, beta.contact.id),
                                     (low.id, low.contact.id)])
    assert answers == {alfa.id: "sign_on", beta.id: "sign_on", low.id: "sign_on"}
    readers = [alfa.groups[0], beta.groups[0], delta.groups[0], emu.private_chat(alfa.contact),
               emu.private_chat(beta.contact)]
    assert "Lambda" not in everything_read(emu, readers)

    # the signatories are the coordinators' only; signing closes at its deadline
    before = await snapshot(bot)
    data = status.button("Signatures").callback_data
    for user, text in ((alfa.contact, "Solo las coordinadoras pueden hacer esto."),
                       (sam, "Only coordinators can do this.")):
        q = emu.forge_callback(user, emu.private_chat(user), 1, data)
        await emu.wait_for(lambda q=q: q.answered)
        assert q.answer_text == text
    after = await snapshot(bot)
    ignore = {"people", "chats", "sent_messages"}
    assert {k: v for k, v in after.items() if k not in ignore} == \
        {k: v for k, v in before.items() if k not in ignore}
    emu.clock.advance(2 * 86400 + 60)
    [in_delta] = alert_copies(emu, delta.groups[0], "Texto de la alerta.")
    q = emu.press(delta.contact, in_delta, label="✍️ Nos sumamos")
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == "La firma de esta declaración está cerrada."
    after = await snapshot(bot)
    for table in ("alerts", "alert_signatures", "alert_answers", "conversations"):
        assert after[table] == before[table], table


async def test_signatures_forget_exit_and_retention(emu: Emulator, make_bot) -> None:
    """Rule Q: /forget leaves the signature the organisation's without its signer; an exit
    leaves no signature of the organisation; the retention purge drops old signers."""
    bot = await make_bot()
    alfa = await add_org(emu, bot, "Alfa")
    beta = await add_org(emu, bot, "Beta")
    gamma = await add_org(emu, bot, "Gamma")
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        alert = Alert(title="Carta", body_es="Texto.", severity="info", topics=[], regions=[],
                      audience="all", kinds=[], asks=["sign_on"], status="sent",
                      strangers_erased=0, statement_es="Declaración.", created_at=now,
                      sent_at=now, updated_at=now)
        session.add(alert)
        await session.flush()
        alert_id = alert.id
        for org in (alfa, beta, gamma):
            session.add(AlertTarget(alert_id=alert_id, chat_id=org.groups[0].id, org_id=org.id,
                                    language="es"))
    async with bot.db.transaction() as session:
        for org in (alfa, beta, gamma):
            done = await statements.sign(session, alert_id, org.contact.id, org.name, now)
            assert done.can is statements.Can.SIGN
        again = await statements.sign(session, alert_id, alfa.contact.id, "Otra", now)
        assert again.can is statements.Can.SIGNED and again.signed_as == "Alfa"
    async with bot.db.transaction() as session:
        await erasure.forget_person(session, alfa.contact.id, now)
        await erasure.exit_org(session, beta.id, now)
    async with bot.db.sessions() as session:
        rows = {(r.org_id, r.name, r.signer_id) for r in
                (await session.execute(select(AlertSignature))).scalars()}
    assert rows == {(alfa.id, "Alfa", None), (gamma.id, "Gamma", gamma.contact.id)}
    async with bot.db.transaction() as session:
        await erasure.purge_retained(session, now + timedelta(days=181), 180)
    async with bot.db.sessions() as session:
        rows = {(r.org_id, r.signer_id) for r in
                (await session.execute(select(AlertSignature))).scalars()}
    assert rows == {(alfa.id, None), (gamma.id, None)}


async def test_a_statement_added_from_edit(emu: Emulator, make_bot) -> None:
    """The statement's fields are in the preview's Edit menu when *We sign on* is asked."""
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    alfa = await add_org(emu, bot, "Alfa")
    _, summary = await compose(emu, coord, title="Carta", es=["Texto."],
                               asks=("Received", "We sign on"))
    assert "A statement to sign" not in summary.text
    chat = emu.private_chat(coord)
    emu.press(coord, summary, label="Edit")
    menu = await text_after(emu, chat, "What do you want to change?", summary.message_id)
    labels = [b.text for row in menu.buttons for b in row]
    assert {"Spanish statement", "English statement", "Signing deadline",
            "Minimum signatures"} <= set(labels)
    emu.press(coord, menu, label="Spanish statement")
    m = await text_after(emu, chat, "send the statement", menu.message_id)
    m = await text_after(emu, chat, "Added.", emu.send(coord, "Declaración añadida.").message_id)
    emu.press(coord, m, label="Done")
    summary = await text_after(emu, chat, "A statement to sign; at least 1 signature",
                               m.message_id)
    await send(emu, bot, coord, summary)
    [copy] = alert_copies(emu, alfa.groups[0], "Texto.")
    assert "Declaración añadida." in copy.text

"""/report through the emulator: a contact's local warning reaches the coordinators, becomes an
alert through the pre-filled composer, or is dismissed with the reason sent back."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Report
from bot.emulator import Emulator
from tests.alert_helpers import (
    add_org,
    alert_copies,
    ask,
    finish_compose,
    press,
    send,
    text_after,
)
from tests.helpers import eventually
from tests.org_helpers import snapshot, started


async def reports(bot) -> list[Report]:
    async with bot.db.sessions() as session:
        return list((await session.execute(select(Report).order_by(Report.id))).scalars())


async def test_a_report_becomes_an_alert(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    coord2 = emu.add_user("Coord Dos", language_code="es")
    bot = await make_bot(coordinator_ids=(coord.id, coord2.id))
    await started(emu, coord, coord2)
    reporter = await add_org(emu, bot, "Alfa", low_profile=True, alias="Una red")
    other = await add_org(emu, bot, "Beta", group_language="en")
    far = await add_org(emu, bot, "Lejos", areas=("MX-YUC",))
    m = await ask(emu, reporter.contact, "/report")
    assert m.text.startswith("Reporta una amenaza")
    m = await ask(emu, reporter.contact, "El congreso de Jalisco aprobó <hoy> una ley & más")
    m = await ask(emu, reporter.contact, "https://congreso.example/ley")
    assert m.text == "¿Qué estado concierne?"
    done = await press(emu, reporter.contact, m, "Jalisco")
    assert done.text.startswith("Gracias. Las coordinadoras recibieron tu reporte")
    [report] = await eventually(lambda: reports(bot), what="the report")
    assert (report.state, report.link, report.status) == ("MX-JAL",
                                                          "https://congreso.example/ley", "open")
    copy = await text_after(emu, emu.private_chat(coord), "Report from a member", 0)
    assert "Organisation: Alfa (low profile)" in copy.text
    assert "El congreso de Jalisco aprobó <hoy> una ley & más" in copy.text
    assert "&lt;hoy&gt;" in copy.html
    copy_es = await text_after(emu, emu.private_chat(coord2), "Reporte de una integrante", 0)
    assert [b.text for row in copy_es.buttons for b in row] == [
        "Redactar una alerta con esto", "Descartar"]

    # Draft an alert from this: the composer opens at the severity, title and text filled in
    question = await press(emu, coord, copy, "Draft an alert from this")
    assert question.text == "How serious is it?"
    preview, summary = await finish_compose(emu, coord, question, severity="Urgent",
                                            nudge="No automatic reminder")
    assert preview.text.startswith("🚨 Alert: Urgent\nEl congreso de Jalisco aprobó <hoy> una")
    assert "🔗 More: https://congreso.example/ley" in preview.text
    assert "Regions: Jalisco" in preview.text
    assert "It will reach 2 organisations in 2 chats." in summary.text
    alert = await send(emu, bot, coord, summary)
    assert alert.report_id == report.id
    assert len(alert_copies(emu, other.groups[0], "una ley & más")) == 1
    assert len(alert_copies(emu, reporter.groups[0], "una ley & más")) == 1
    assert alert_copies(emu, far.groups[0], "una ley") == []
    assert (await reports(bot))[0].status == "drafted"
    # the low-profile reporter is named to coordinators only
    assert "Alfa" not in "\n".join(m.text or "" for m in emu.transcript(other.groups[0]))


async def test_a_dismissed_report_tells_the_reason_and_refusals(emu: Emulator,
                                                               make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord)
    reporter = await add_org(emu, bot, "Alfa", contact_language="en")
    m = await ask(emu, reporter.contact, "/report")
    m = await ask(emu, reporter.contact, "A rumour about a tax audit")
    sent = emu.send_document(reporter.contact, "decree.pdf", b"%PDF-1.4 decree",
                             mime_type="application/pdf")
    m = await emu.wait_for_bot_message(emu.private_chat(reporter.contact), after=sent)
    assert m.text == "Which state does it concern?"
    await press(emu, reporter.contact, m, "Not about one state")
    [report] = await eventually(lambda: reports(bot), what="the report")
    assert report.file_name == "decree.pdf" and report.file_id
    copy = await text_after(emu, emu.private_chat(coord), "Report from a member", 0)
    assert "State: not one state" in copy.text and "A document follows." in copy.text
    doc = await emu.wait_for(lambda: next((x for x in emu.bot_messages(emu.private_chat(coord))
                                          if x.document is not None), None))
    assert doc.document.content == b"%PDF-1.4 decree"

    # a member, a stranger and the reporter cannot decide on it
    stranger = emu.add_user("Sam", language_code="en")
    await started(emu, stranger)
    before = await snapshot(bot)
    for user in (reporter.contact, stranger):
        for label in ("Draft an alert from this", "Dismiss"):
            q = emu.forge_callback(user, emu.private_chat(user), copy.message_id,
                                   copy.button(label).callback_data)
            await emu.wait_for(lambda q=q: q.answered)
            assert q.answer_text == "Only coordinators can do this."
    after = await snapshot(bot)
    assert {k: v for k, v in after.items() if k != "people"} == \
        {k: v for k, v in before.items() if k != "people"}

    emu.press(coord, copy, label="Dismiss")
    await text_after(emu, emu.private_chat(coord), "Why is this report dismissed?", doc.message_id)
    done = await ask(emu, coord, "Already covered by <alert> 3")
    assert done.text == "Dismissed. The person who reported it was told your reason."
    told = await text_after(emu, emu.private_chat(reporter.contact), "was not turned", 0)
    assert told.text == ("Your report “A rumour about a tax audit” was not turned into an alert. "
                         "The coordinators' reason: Already covered by <alert> 3")
    assert (await reports(bot))[0].status == "dismissed"
    q = emu.press(coord, copy, label="Draft an alert from this")
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == "This report was dismissed."

    # only contacts of an active organisation may report
    refused = await ask(emu, stranger, "/report")
    assert refused.text == "Only the contacts of an active member organisation can do this."
    in_group = await ask_group(emu, reporter.contact, reporter.groups[0])
    assert "private chat" in in_group.text or "chat privado" in in_group.text


async def ask_group(emu: Emulator, user, group):
    sent = emu.send(user, "/report", chat=group)
    return await emu.wait_for_bot_message(group, after=sent)


async def test_reports_go_to_the_coordination_group(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    grp = emu.add_group("Coordinación", members=[coord], admins=[coord])
    grp.bot_status = "member"
    bot = await make_bot(coordinator_ids=(coord.id,), coordination_chat_id=grp.id)
    await started(emu, coord)
    reporter = await add_org(emu, bot, "Alfa")
    for text in ("/report", "Una alerta local"):
        await ask(emu, reporter.contact, text)
    m = await press(emu, reporter.contact,
                    emu.bot_messages(emu.private_chat(reporter.contact))[-1], "Omitir")
    await press(emu, reporter.contact, m, "Oaxaca")
    copy = await text_after(emu, grp, "Reporte de una integrante", 0)
    assert "Estado: Oaxaca" in copy.text
    assert not [x for x in emu.bot_messages(emu.private_chat(coord)) if "Report" in x.text]

    # Draft pressed in the group: the composer continues in the coordinator's private chat
    emu.press(coord, copy, label="Redactar una alerta con esto")
    question = await text_after(emu, emu.private_chat(coord), "How serious is it?", 0)
    preview, summary = await finish_compose(emu, coord, question)
    assert "Regions: Oaxaca" in preview.text
    assert "It will reach 0 organisations" in summary.text  # Alfa works in Jalisco

    # Dismiss a second report in the group: the reason is asked with a reply
    for text in ("/report", "Otra alerta"):
        await ask(emu, reporter.contact, text)
    m = await press(emu, reporter.contact,
                    emu.bot_messages(emu.private_chat(reporter.contact))[-1], "Omitir")
    await press(emu, reporter.contact, m, "No es de un solo estado")
    second = await text_after(emu, grp, "Otra alerta", copy.message_id)
    emu.press(coord, second, label="Descartar")
    asked = await text_after(emu, grp, "¿Por qué se descarta", second.message_id)
    emu.send(coord, "Ya lo sabemos", chat=grp, reply_to=asked)
    told = await text_after(emu, emu.private_chat(reporter.contact), "no se convirtió", 0)
    assert told.text.endswith("El motivo de las coordinadoras: Ya lo sabemos")

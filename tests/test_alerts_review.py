"""The two-person rule (issue 8) through the emulator: the composer's Send asks the other
coordinator (in their language) and sends nothing; the composer's own approval, a member's and
a stranger's are refused and change nothing; the second coordinator's approval sends it once;
Send back returns it to its composer; an urgent alert goes at once and is flagged."""

from __future__ import annotations

from typing import Any

from bot.emulator import Emulator
from tests.alert_helpers import (
    add_org,
    alert_copies,
    compose,
    everything_read,
    last_alert,
    progress_done,
    text_after,
)
from tests.delivery_helpers import finished
from tests.helpers import eventually
from tests.org_helpers import snapshot, started


async def status_of(bot: Any) -> str:
    alert = await last_alert(bot)
    assert alert is not None
    return alert.status


async def test_a_second_coordinator_approves_never_the_composer(emu: Emulator,
                                                                 make_bot) -> None:
    ann = emu.add_user("Ann", language_code="en")  # composes
    bea = emu.add_user("Bea", language_code="es")  # approves
    bot = await make_bot(coordinator_ids=(ann.id, bea.id), two_person_rule=True)
    await started(emu, ann, bea)
    alfa = await add_org(emu, bot, "Alfa")
    low = await add_org(emu, bot, "Lambda Secreta", low_profile=True)
    stranger = emu.add_user("Sam", language_code="en")
    await started(emu, stranger, alfa.contact)

    _, summary = await compose(emu, ann, title="Reforma", es=["Texto de la reforma."],
                               en=["Text of the reform."])
    assert "Two-person rule: Send asks another coordinator to approve it first." in summary.text
    emu.press(ann, summary, label="Send")
    told = await text_after(emu, emu.private_chat(ann), "for approval", summary.message_id)
    assert "two-person rule" in told.text
    request = await text_after(emu, emu.private_chat(bea), "Se necesita aprobación", 0)
    assert "Texto de la reforma." in request.text and "2" in request.text
    assert [b.text for row in request.buttons for b in row] == ["Aprobar y enviar",
                                                                 "Devolver"]
    assert await status_of(bot) == "review"
    assert alert_copies(emu, alfa.groups[0], "Texto de la reforma.") == []
    # the composer cannot approve (forged, since they did not get the request), nor send back;
    # a member and a stranger are refused; nothing changes
    before = await snapshot(bot)
    approve = request.button("Aprobar y enviar").callback_data
    back = request.button("Devolver").callback_data
    for data in (approve, back):
        q = emu.forge_callback(ann, emu.private_chat(ann), told.message_id, data)
        await emu.wait_for(lambda q=q: q.answered)
        assert q.answer_text == ("You composed this alert: another coordinator must approve "
                                 "it (two-person rule).") and q.show_alert
        for user, lang in ((alfa.contact, "es"), (stranger, "en")):
            q = emu.forge_callback(user, emu.private_chat(user), 1, data)
            await emu.wait_for(lambda q=q: q.answered)
            assert q.answer_text == {"es": "Solo las coordinadoras pueden hacer esto.",
                                     "en": "Only coordinators can do this."}[lang]
    after = await snapshot(bot)
    ignore = {"people", "chats", "sent_messages"}
    assert {k: v for k, v in after.items() if k not in ignore} == \
        {k: v for k, v in before.items() if k not in ignore}
    assert await status_of(bot) == "review"

    # the second coordinator approves: sent once, the composer sees the progress
    q = emu.press(bea, request, label="Aprobar y enviar")
    await emu.wait_for(lambda: q.answered)
    alert = await eventually(lambda: last_alert(bot, sent=True), what="the alert sent")
    assert alert.approved_by == bea.id and alert.composed_by == ann.id
    assert (await snapshot(bot))["conversations"] == []  # the composer's flow ended
    await finished(bot, alert.fanout_id)
    await progress_done(emu, ann, "(alert)")
    assert len(alert_copies(emu, alfa.groups[0], "Texto de la reforma.")) == 1
    assert len(alert_copies(emu, low.groups[0], "Texto de la reforma.")) == 1
    q = emu.press(bea, request, label="Aprobar y enviar")  # a double tap
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == "Esta alerta ya se envió."
    assert len(alert_copies(emu, alfa.groups[0], "Texto de la reforma.")) == 1
    assert "Lambda" not in everything_read(emu, [alfa.groups[0]])


async def test_send_back_and_urgent_at_once(emu: Emulator, make_bot) -> None:
    ann = emu.add_user("Ann", language_code="es")
    bea = emu.add_user("Bea", language_code="en")
    bot = await make_bot(coordinator_ids=(ann.id, bea.id), two_person_rule=True)
    await started(emu, ann, bea)
    alfa = await add_org(emu, bot, "Alfa")
    es = {"done": "Listo", "skip": "Omitir", "reach": "Llegará a"}
    _, summary = await compose(emu, ann, title="Borrador", es=["Texto uno."],
                               severity="Información", audience="Todas las organizaciones",
                               words=es)
    emu.press(ann, summary, label="Enviar")
    request = await text_after(emu, emu.private_chat(bea), "Approval needed", 0)
    q = emu.press(bea, request, label="Send back")
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == "Sent back to its composer."
    await text_after(emu, emu.private_chat(ann), "devolvió", summary.message_id)
    assert await status_of(bot) == "draft"
    q = emu.press(bea, request, label="Approve and send")  # too late: it is a draft again
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == "This alert is not waiting for approval any more."
    assert alert_copies(emu, alfa.groups[0], "Texto uno.") == []

    # an urgent alert goes at once; the other coordinator is told
    _, summary = await compose(emu, ann, title="Urgente", es=["Texto urgente."],
                               severity="Urgente", audience="Todas las organizaciones",
                               nudge="Sin recordatorio automático", words=es)
    emu.press(ann, summary, label="Enviar")
    alert = await eventually(lambda: last_alert(bot, sent=True), what="the urgent alert")
    assert alert.approved_by is None
    await finished(bot, alert.fanout_id)
    assert len(alert_copies(emu, alfa.groups[0], "Texto urgente.")) == 1
    flag = await text_after(emu, emu.private_chat(bea), "without a second approval", 0)
    assert "Texto urgente." in flag.text and not flag.buttons

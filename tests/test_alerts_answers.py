"""Rule A through the emulator: who answers for whom, the latest answer standing, "we can help"
with a capacity, strangers counted apart, forged answers changing nothing; the nudge reaching
only the silent organisations (by hand and automatically); and a low-profile organisation never
named where other members read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.db.models import AlertAnswer, AlertStranger, ScheduledTask
from bot.emulator import Emulator
from bot.services.alerts import alerts
from tests.alert_helpers import (
    Org,
    add_org,
    alert_copies,
    compose,
    everything_read,
    outbox_chats,
    send,
    text_after,
)
from tests.delivery_helpers import finished
from tests.helpers import eventually
from tests.org_helpers import snapshot

ALL_ASKS = ("Received", "We sign on", "This affects us", "We can help")


async def world(emu: Emulator, bot: Any) -> dict[str, Org]:
    return {
        "A": await add_org(emu, bot, "Alfa"),
        "C": await add_org(emu, bot, "Gamma", groups=0, contact_language="en"),
        "O": await add_org(emu, bot, "Omega", only_contacts=True),
        "L": await add_org(emu, bot, "Lambda Secreta", low_profile=True),
        "N": await add_org(emu, bot, "Nu", scope="national", areas=("GT",)),
    }


async def answered(emu: Emulator, query: Any) -> Any:
    await emu.wait_for(lambda: query.answered, what="the callback answer")
    return query


async def answers_of(bot: Any, alert_id: int) -> dict[int, tuple[str, str | None]]:
    async with bot.db.sessions() as session:
        return await alerts.answers(session, alert_id)


async def answer_rows(bot: Any) -> list[tuple]:
    async with bot.db.sessions() as session:
        rows = (await session.execute(select(AlertAnswer))).scalars().all()
        return sorted((r.alert_id, r.org_id, r.answer, r.capacity, r.answered_by) for r in rows)


async def send_alert(emu: Emulator, bot: Any, coord: Any, title: str = "Reforma", **kw: Any):
    kw.setdefault("regions", ("Jalisco",))
    _, summary = await compose(emu, coord, title=title, es=["Texto de la alerta."],
                               en=["Alert text."], asks=ALL_ASKS, **kw)
    return await send(emu, bot, coord, summary)


async def test_answers_follow_rule_a(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    orgs = await world(emu, bot)
    alert = await send_alert(emu, bot, coord)
    a, c, o, n = orgs["A"], orgs["C"], orgs["O"], orgs["N"]
    [in_a] = alert_copies(emu, a.groups[0], "Texto de la alerta.")

    # anyone in an org's member chat answers for it
    q = await answered(emu, emu.press(a.member, in_a, label="✅ Recibido"))
    assert q.answer_text == "Gracias: quedó registrada la respuesta de su organización."
    assert await answers_of(bot, alert.id) == {a.id: ("acknowledge", None)}
    # signing on needs one of its contacts
    q = await answered(emu, emu.press(a.member, in_a, label="✍️ Nos sumamos"))
    assert "Solo los contactos" in q.answer_text and q.show_alert
    assert await answers_of(bot, alert.id) == {a.id: ("acknowledge", None)}
    # the latest answer stands
    await answered(emu, emu.press(a.contact, in_a, label="✍️ Nos sumamos"))
    assert await answers_of(bot, alert.id) == {a.id: ("sign_on", None)}

    # a contact in private answers for their org (no group: the alert came in private)
    [in_c] = alert_copies(emu, emu.private_chat(c.contact), "Alert text.")
    q = await answered(emu, emu.press(c.contact, in_c, label="⚠️ This affects us"))
    assert q.answer_text == "Thank you: your organisation's answer is recorded."
    # "we can help" asks which capacity, then records it
    q = await answered(emu, emu.press(c.contact, in_c, label="🤝 We can help"))
    assert await answers_of(bot, alert.id) == {a.id: ("sign_on", None),
                                               c.id: ("affected", None)}
    question = await text_after(emu, emu.private_chat(c.contact), "Which capacity",
                                in_c.message_id)
    await answered(emu, emu.press(c.contact, question, label="Legal advice"))
    assert (await answers_of(bot, alert.id))[c.id] == ("can_help", "legal")

    # Omega lets only its contacts answer: its member is a stranger, counted apart
    [in_o] = alert_copies(emu, o.groups[0], "Texto de la alerta.")
    q = await answered(emu, emu.press(o.member, in_o, label="✅ Recibido"))
    assert "se cuenta aparte" in q.answer_text
    assert o.id not in await answers_of(bot, alert.id)
    async with bot.db.sessions() as session:
        strangers = (await session.execute(select(AlertStranger))).scalars().all()
        assert [(s.alert_id, s.user_id) for s in strangers] == [(alert.id, o.member.id)]

    # every message and press was answered at once, and the alert itself never edited
    assert all(m.edit_date is None for m in alert_copies(emu, a.groups[0], "Texto"))
    assert emu.unanswered_callbacks() == []

    # forged presses: an org the alert did not reach, an alert that does not exist, an answer
    # the alert does not ask, a capacity without the alert: nothing changes
    before = await snapshot(bot)
    forged = [
        (n.contact, n.groups[0], f"v1:aa:{alert.id}:acknowledge"),
        (n.contact, emu.private_chat(n.contact), f"v1:aa:{alert.id}:sign_on"),
        (a.contact, a.groups[0], "v1:aa:999:acknowledge"),
        (a.contact, a.groups[0], f"v1:aa:{alert.id}:bogus"),
        (a.contact, a.groups[0], f"v1:acap:{alert.id}:weapons"),
        (n.contact, n.groups[0], f"v1:acap:{alert.id}:legal"),
    ]
    for user, chat, data in forged:
        await answered(emu, emu.forge_callback(user, chat, in_a.message_id, data))
    after = await snapshot(bot)
    assert after["alert_answers"] == before["alert_answers"]
    assert after["alert_strangers"] == before["alert_strangers"]
    assert await answer_rows(bot) == sorted([
        (alert.id, a.id, "sign_on", None, a.contact.id),
        (alert.id, c.id, "can_help", "legal", c.contact.id)])


async def test_status_and_nudge_reach_only_the_silent(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    orgs = await world(emu, bot)
    alert = await send_alert(emu, bot, coord)
    a, c, o, lam = orgs["A"], orgs["C"], orgs["O"], orgs["L"]
    [in_a] = alert_copies(emu, a.groups[0], "Texto de la alerta.")
    await answered(emu, emu.press(a.member, in_a, label="⚠️ Nos afecta"))
    [in_c] = alert_copies(emu, emu.private_chat(c.contact), "Alert text.")
    await answered(emu, emu.press(c.contact, in_c, label="✅ Received"))
    [in_o] = alert_copies(emu, o.groups[0], "Texto de la alerta.")
    await answered(emu, emu.press(o.member, in_o, label="✅ Recibido"))  # a stranger

    chat = emu.private_chat(coord)
    sent = emu.send(coord, "/alerts")
    listing = await text_after(emu, chat, "Recent alerts", sent.message_id)
    assert "Reforma" in listing.text
    assert "reached 4 organisations in 4 chats; delivered 4; answered 2" in listing.text
    emu.press(coord, listing, label="Status 1")
    status = await text_after(emu, chat, "Answered: 2 of 4", listing.message_id)
    assert "Delivery: sent 4 of 4; waiting 0; failed 0; unreachable 0" in status.text
    assert "By answer: Received: 1, This affects us: 1" in status.text
    assert "By tier: Full member: 2" in status.text
    assert "(not counted above): 1" in status.text
    assert "Not answered yet: 2" in status.text
    assert "• Lambda Secreta (low profile)" in status.text and "• Omega" in status.text
    assert "Alfa" not in status.text.split("Not answered yet")[1]

    emu.press(coord, status, label="Remind those who have not answered")
    told = await text_after(emu, chat, "Reminding 2 organisations", status.message_id)
    current = await eventually(lambda: _alert(bot, alert.id), what="the nudge fan-out")
    await finished(bot, current.nudge_fanout_id)
    reminded = await outbox_chats(bot, current.nudge_fanout_id)
    assert set(reminded) == {o.groups[0].id, lam.groups[0].id}
    for org in (o, lam):
        [reminder] = alert_copies(emu, org.groups[0], "Recordatorio")
        assert "Reforma" in reminder.text and reminder.buttons
    for chat_ in (a.groups[0], emu.private_chat(c.contact)):
        assert not [m for m in emu.transcript(chat_) if m.from_bot and (
            "Recordatorio" in (m.text or "") or "Reminder" in (m.text or ""))]
    # once: a second press sends nothing more
    q = await answered(emu, emu.press(coord, status, label="Remind those who have not answered"))
    assert q.answer_text == "The reminder was already sent."
    assert len(alert_copies(emu, o.groups[0], "Recordatorio")) == 1
    assert told.text.startswith("Reminding 2 organisations")

    # nobody but the coordinators read the low-profile org's name
    others = [a.groups[0], o.groups[0], orgs["N"].groups[0], emu.private_chat(c.contact),
              emu.private_chat(a.contact), emu.private_chat(o.contact)]
    assert "Lambda" not in everything_read(emu, others)


async def _alert(bot: Any, alert_id: int):
    async with bot.db.sessions() as session:
        found = await alerts.get(session, alert_id)
        return found if found is not None and found.nudge_fanout_id else None


async def test_urgent_alert_nudges_the_silent_automatically(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    orgs = await world(emu, bot)
    _, summary = await compose(emu, coord, title="Urgente", es=["Texto urgente."],
                               severity="Urgent", regions=("Jalisco",),
                               nudge="Remind the silent ones after 2 hours")
    assert "Automatic reminder to the silent ones after 2 hours." in summary.text
    alert = await send(emu, bot, coord, summary)
    async with bot.db.sessions() as session:
        [task] = (await session.execute(select(ScheduledTask).where(
            ScheduledTask.kind == "alerts.nudge"))).scalars().all()
    assert task.payload == {"alert": alert.id}
    [in_a] = alert_copies(emu, orgs["A"].groups[0], "Texto urgente.")
    await answered(emu, emu.press(orgs["A"].member, in_a, label="✅ Recibido"))
    emu.clock.advance(2 * 3600 + 5)
    current = await eventually(lambda: _alert(bot, alert.id), timeout=20,
                               what="the automatic nudge")
    await finished(bot, current.nudge_fanout_id)
    reminded = set(await outbox_chats(bot, current.nudge_fanout_id))
    assert reminded == {orgs["O"].groups[0].id, orgs["L"].groups[0].id,
                        orgs["C"].contact.id}
    assert alert_copies(emu, orgs["A"].groups[0], "Recordatorio") == []
    [reminder] = alert_copies(emu, emu.private_chat(orgs["C"].contact), "Reminder")
    assert "Urgente" in reminder.text

"""Escalation (issue 8) moved through by the emulator's clock: an alert asking for
acknowledgement by a deadline is re-sent, at the lead time, in the private chats of the silent
organisations' reachable contacts (in their language), never to an organisation that answered;
an unreachable contact is listed to the coordinators; at the deadline the still silent ones are
flagged to them. A low-profile organisation is never named to the others."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db.models import Fanout, ScheduledTask
from bot.emulator import Emulator
from bot.services.alerts import alerts, corrections
from handlers.alerts.copies import fix_copy
from tests.action_helpers import advance_to
from tests.alert_helpers import (
    add_org,
    alert_copies,
    compose,
    everything_read,
    outbox_chats,
    send,
    text_after,
)
from tests.delivery_helpers import finished
from tests.helpers import eventually, swept
from tests.org_helpers import started

ZONE = ZoneInfo("America/Mexico_City")


async def _all_done(states: Any) -> bool:
    return set((await states()).values()) == {"done"}


async def fanout(bot: Any, key: str) -> int | None:
    async with bot.db.sessions() as session:
        return (await session.execute(select(Fanout.id).where(Fanout.key == key))).scalar()


async def tasks(bot: Any) -> dict[str, tuple[datetime, str]]:
    async with bot.db.sessions() as session:
        rows = (await session.execute(select(ScheduledTask).where(
            ScheduledTask.kind.in_(("alerts.escalate", "alerts.overdue"))))).scalars().all()
        return {r.kind: (r.due_at, r.status) for r in rows}


async def test_escalation_follows_the_clock(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord)
    alfa = await add_org(emu, bot, "Alfa")
    beta = await add_org(emu, bot, "Beta", group_language="en", contact_language="en")
    low = await add_org(emu, bot, "Lambda Secreta", low_profile=True, contact_language="en")
    await add_org(emu, bot, "Upsilon", reachable=False)  # its contact never started me
    now = datetime.fromtimestamp(emu.clock.now(), ZONE).replace(second=0, microsecond=0)
    deadline = now + timedelta(days=3)
    _, summary = await compose(emu, coord, title="Consulta", es=["Texto de la consulta."],
                               en=["Text of the consultation."],
                               deadline=deadline.strftime("%Y-%m-%d %H:%M"))
    alert = await send(emu, bot, coord, summary)
    due = await tasks(bot)
    assert due["alerts.escalate"][0] == deadline - timedelta(hours=24)
    assert due["alerts.overdue"][0] == deadline
    [in_beta] = alert_copies(emu, beta.groups[0], "Text of the consultation.")
    q = emu.press(beta.member, in_beta, label="✅ Received")
    await emu.wait_for(lambda: q.answered)

    # a minute before the lead time: nothing yet
    advance_to(emu, deadline - timedelta(hours=24), plus=-60)
    await swept(bot)
    assert await fanout(bot, f"alert.escalate:{alert.id}") is None
    # at the lead time: the silent organisations' reachable contacts, in private
    advance_to(emu, deadline - timedelta(hours=24), plus=5)
    resent = await eventually(lambda: fanout(bot, f"alert.escalate:{alert.id}"), timeout=20,
                              what="the escalation's re-send")
    await finished(bot, resent)
    assert set(await outbox_chats(bot, resent)) == {alfa.contact.id, low.contact.id}
    [copy] = alert_copies(emu, emu.private_chat(alfa.contact), "no ha respondido")
    assert "Texto de la consulta." in copy.text
    [other] = alert_copies(emu, emu.private_chat(low.contact), "has not answered")
    assert "Text of the consultation." in other.text
    assert alert_copies(emu, emu.private_chat(beta.contact), "has not answered") == []
    listed = await text_after(emu, emu.private_chat(coord), "cannot write to", 0)
    assert "Upsilon" in listed.text and "1 unreachable contact" in listed.text
    assert "Alfa" not in listed.text and "Lambda" not in listed.text
    # Alfa's contact answers in private: it counts for Alfa (rule A)
    q = emu.press(alfa.contact, copy, label="✅ Recibido")
    await emu.wait_for(lambda: q.answered)
    async with bot.db.sessions() as session:
        assert set(await alerts.answers(session, alert.id)) == {beta.id, alfa.id}

    # at the deadline: the still silent ones flagged to the coordinators
    advance_to(emu, deadline, plus=5)
    flag = await text_after(emu, emu.private_chat(coord), "the deadline passed", 0, timeout=20)
    assert "Lambda Secreta (low profile)" in flag.text and "Upsilon" in flag.text
    assert "Alfa" not in flag.text and "Beta" not in flag.text
    assert "2 organisations" in flag.text
    readers = [alfa.groups[0], beta.groups[0], emu.private_chat(alfa.contact),
               emu.private_chat(beta.contact)]
    assert "Lambda" not in everything_read(emu, readers)
    # the flag is out before its scheduled row is marked done: wait for the mark
    async def states() -> dict[str, str]:
        return {k: s for k, (_, s) in (await tasks(bot)).items()}

    await eventually(lambda: _all_done(states), what="both scheduled rows done")
    assert await states() == {"alerts.escalate": "done", "alerts.overdue": "done"}

    # a correction reaches the re-sent copies too (their own line of fan-outs)
    async with bot.db.transaction() as session:
        await corrections.apply(session, alert.id, bot.clock.now(),
                                      fix_copy(bot.settings.timezone), "es",
                                      body_es="Texto corregido.", body_en="Corrected text.")
    bot.sender.wake()
    fixed = await eventually(lambda: fanout(bot, f"alert.fix.e:{alert.id}:1"),
                             what="the re-sent copies' correction")
    await finished(bot, fixed)
    assert set(await outbox_chats(bot, fixed)) == {alfa.contact.id, low.contact.id}
    again = emu.message(copy)
    assert again.text.startswith("✏️ Corregida el ") and "Texto corregido." in again.text
    # the group's one copy of the alert (the clock may have crossed a Monday: the weekly digest
    # is another message, not a copy)
    [in_alfa] = [m for m in emu.bot_messages(alfa.groups[0])
                 if not m.text.startswith("Resumen de la coalición")]
    assert "Texto corregido." in in_alfa.text


async def test_a_late_resend_is_missed_but_the_flag_runs(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coordinadora", language_code="es")
    bot = await make_bot(coordinator_ids=(coord.id,), escalation_lead_hours=2)
    await started(emu, coord)
    alfa = await add_org(emu, bot, "Alfa")
    now = datetime.fromtimestamp(emu.clock.now(), ZONE).replace(second=0, microsecond=0)
    deadline = now + timedelta(days=1)
    es = {"done": "Listo", "skip": "Omitir", "reach": "Llegará a"}
    _, summary = await compose(emu, coord, title="Consulta", es=["Texto."],
                               severity="Información", audience="Todas las organizaciones",
                               deadline=deadline.strftime("%Y-%m-%d %H:%M"), words=es)
    alert = await send(emu, bot, coord, summary, label="Enviar")
    assert (await tasks(bot))["alerts.escalate"][0] == deadline - timedelta(hours=2)
    advance_to(emu, deadline, plus=60)  # the bot was away past the deadline
    flag = await text_after(emu, emu.private_chat(coord), "venció el plazo", 0, timeout=20)
    assert "Alfa" in flag.text
    await eventually(lambda: _status(bot, "alerts.escalate", "missed"), timeout=10,
                     what="the late re-send missed")
    assert await fanout(bot, f"alert.escalate:{alert.id}") is None
    assert alert_copies(emu, emu.private_chat(alfa.contact), "no ha respondido") == []


async def _status(bot: Any, kind: str, status: str) -> bool:
    return (await tasks(bot)).get(kind, (None, None))[1] == status

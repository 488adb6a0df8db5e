"""Rule Q for alerts: /forget leaves an organisation's answers without the person's id and their
stranger presses gone (still counted); an organisation that exits leaves no answer or target;
the retention purge takes the attributions; no row names the forgotten person afterwards."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db.models import AlertAnswer, AlertStranger, AlertTarget, Report
from bot.emulator import Emulator
from bot.services.alerts import alerts, reports
from bot.services.safety import erasure
from tests.alert_helpers import add_org, alert_copies, compose, send
from tests.org_helpers import ask, snapshot


async def test_forget_exit_and_retention(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    a = await add_org(emu, bot, "Alfa")
    c = await add_org(emu, bot, "Gamma", groups=0, contact_language="en")
    o = await add_org(emu, bot, "Omega", only_contacts=True)
    _, summary = await compose(emu, coord, title="Privada", es=["Texto."])
    alert = await send(emu, bot, coord, summary)
    for user, chat, label in ((a.member, a.groups[0], "✅ Recibido"),
                              (c.contact, emu.private_chat(c.contact), "✅ Received"),
                              (o.member, o.groups[0], "✅ Recibido")):
        [copy] = alert_copies(emu, chat, "Texto.")
        q = emu.press(user, copy, label=label)
        await emu.wait_for(lambda q=q: q.answered)
    async with bot.db.transaction() as session:
        await reports.create(session, c.id, c.contact.id, "rumour", bot.clock.now(), link=None,
                             file_id=None, file_name=None, state=None, language="en")

    # the contact of Gamma and Omega's member (a stranger here) use /forget
    for user, yes in ((c.contact, "Yes, erase my data"), (o.member, "Sí, borrar mis datos")):
        emu.private_chat(user).started = True
        confirm = await ask(emu, user, "/forget")
        emu.press(user, confirm, label=yes)
        await emu.wait_for(lambda confirm=confirm: emu.message(confirm).edit_date is not None,
                           what="the erasure done")
    async with bot.db.sessions() as session:
        answers = {(r.org_id, r.answered_by) for r in
                   (await session.execute(select(AlertAnswer))).scalars()}
        assert answers == {(a.id, a.member.id), (c.id, None)}
        assert (await session.execute(select(AlertStranger))).scalars().all() == []
        targets = {r.chat_id for r in (await session.execute(select(AlertTarget))).scalars()}
        assert c.contact.id not in targets and a.groups[0].id in targets
        assert (await session.execute(select(Report))).scalars().all() == []
        status = await alerts.status(session, alert.id)
        assert status is not None and status.strangers == 1 and status.answered == 2
    rows = await snapshot(bot)
    for table, found in rows.items():
        for row in found:
            assert c.contact.id not in row and o.member.id not in row, table

    # Alfa exits: no answer or target of it is left
    async with bot.db.transaction() as session:
        await erasure.exit_org(session, a.id, bot.clock.now())
    async with bot.db.sessions() as session:
        assert {r.org_id for r in (await session.execute(select(AlertAnswer))).scalars()} == \
            {c.id}
        assert a.id not in {r.org_id for r in
                            (await session.execute(select(AlertTarget))).scalars()}

    # retention: attributions older than the cutoff go
    async with bot.db.transaction() as session:
        purged = await alerts.purge_old(session, bot.clock.now() + timedelta(days=1))
    assert purged >= 1
    async with bot.db.sessions() as session:
        assert {r.answered_by for r in (await session.execute(select(AlertAnswer))).scalars()} \
            == {None}
        assert (await session.execute(select(AlertTarget))).scalars().all() == []

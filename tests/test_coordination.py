"""Coordinators' views: /members with filters and pages, /export only in private, and the team of
coordinators (issue 5). Every change a coordinator makes is in the audit log, with ids only."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select

from bot.db.models import AuditEntry, Coordinator, MemberChat
from bot.emulator import Emulator
from bot.services.membership import membership
from tests.org_helpers import ask, make_org, snapshot, started


async def audit(service) -> list[tuple[str, int | None, int | None]]:
    async with service.db.sessions() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(r.action, r.actor_id, r.target_id) for r in rows]


async def coalition(emu: Emulator, service, coord_id: int) -> dict[str, int]:
    """Five organisations of different kinds, places and states; one reachable contact each."""
    people = {k: emu.add_user(k.title(), language_code="es")
              for k in ("ana", "bea", "cruz", "dora", "eli")}
    await started(emu, people["ana"], people["bea"], people["dora"])
    orgs = {
        "ana": await make_org(service, people["ana"].id, "Alfa Jalisco", coordinator=coord_id),
        "bea": await make_org(service, people["bea"].id, "Beta Nacional", coordinator=coord_id,
                              scope="national", areas=("MX",), topics=("aml",), tier="ally"),
        "cruz": await make_org(service, people["cruz"].id, "Cruz Oaxaca", coordinator=coord_id,
                               areas=("MX-OAX",), kind="activist"),
        "dora": await make_org(service, people["dora"].id, "Dora Pendiente", active=False,
                               areas=("MX-JAL",)),
        "eli": await make_org(service, people["eli"].id, "Eli Guatemala", coordinator=coord_id,
                              scope="national", areas=("GT",), kind="foundation"),
    }
    return orgs


async def test_members_counts_filters_and_bad_filters(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="es")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await coalition(emu, bot, coord.id)
    everyone = await ask(emu, coord, "/members")
    assert everyone.text.startswith("Organizaciones: 5")
    assert "Activa: 4" in everyone.text and "En espera de aprobación: 1" in everyone.text
    # Cruz and Eli have no reachable contact and no group
    assert "Inalcanzables: 2" in everyone.text
    jal = await ask(emu, coord, "/members state=MX-JAL")
    # Jalisco: Alfa (MX-JAL), Beta (national MX), Dora (pending, MX-JAL)
    assert "Organizaciones: 3" in jal.text and "Cruz" not in jal.text and "Eli" not in jal.text
    # the same place by its name, with or without accents, and a country by its name
    for words in ("state=Jalisco", "state=jalisco", "area=JALISCO"):
        named = await ask(emu, coord, f"/members {words}")
        assert "Organizaciones: 3" in named.text and "Cruz" not in named.text, words
    guatemala = await ask(emu, coord, "/members country=Guatemala")
    assert "Organizaciones: 1" in guatemala.text and "Eli Guatemala" in guatemala.text
    oaxaca = await ask(emu, coord, "/members state=Oaxaca kind=activist")
    assert "Organizaciones: 1" in oaxaca.text and "Cruz Oaxaca" in oaxaca.text
    pending = await ask(emu, coord, "/members state=MX-JAL status=pending")
    assert "Organizaciones: 1" in pending.text and "Dora Pendiente" in pending.text
    narrow = await ask(emu, coord, "/members topic=tax kind=cso tier=member reachable=yes")
    assert "Organizaciones: 2" in narrow.text and "Alfa Jalisco" in narrow.text
    unreachable = await ask(emu, coord, "/members reachable=no")
    assert "Cruz Oaxaca" in unreachable.text and "⚠️ inalcanzable" in unreachable.text
    bad = await ask(emu, coord, "/members colour=red")
    assert "No conozco el filtro “colour=red”" in bad.text
    assert "topic (tema): association-law" in bad.text
    bad_value = await ask(emu, coord, "/members tier=boss")
    assert "tier (membresía): member, ally" in bad_value.text


async def test_members_in_english_with_pages(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        for i in range(45):
            await membership.register(session, membership.Draft(
                name=f"Org {i:02d}", kind="cso", tier="member", scope="state",
                areas=["MX-JAL"], topics=["tax"], capacities=[], language="en",
                only_contacts_answer=False), 10_000 + i, now, approved_by=coord.id)
    first = await ask(emu, coord, "/members state=MX-JAL")
    assert first.text.startswith("Organisations: 45")
    assert "Org 00" in first.text and "Org 19" in first.text and "Org 20" not in first.text
    assert "Page 1 of 3" in first.text
    assert [b.text for row in first.buttons for b in row] == ["Next ▶️"]
    emu.press(coord, first, label="Next ▶️")
    await emu.wait_for(lambda: "Page 2 of 3" in emu.message(first).text, what="page 2")
    assert "Org 20" in emu.message(first).text and "Org 19" not in emu.message(first).text
    assert [b.text for row in emu.message(first).buttons for b in row] == ["◀️ Previous",
                                                                             "Next ▶️"]
    emu.press(coord, first, label="Next ▶️")
    await emu.wait_for(lambda: "Page 3 of 3" in emu.message(first).text, what="page 3")
    assert "Org 44" in emu.message(first).text
    assert "Filters: state=MX-JAL" in emu.message(first).text


async def test_members_list_stays_out_of_groups(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="es")
    bot = await make_bot(coordinator_ids=(coord.id,))
    grp = emu.add_group("Mixto", members=[coord], admins=[coord])
    emu.add_bot(grp, by=coord)
    await make_org(bot, coord.id + 1, "Secreta", coordinator=coord.id)
    refused = await ask(emu, coord, "/members", chat=grp)
    assert "chat privado" in refused.text and "Secreta" not in refused.text


async def test_export_only_in_private_protected_and_parsed_back(emu: Emulator,
                                                                 make_bot) -> None:
    coord = emu.add_user("Coord", user_id=2**34 + 1, language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord)
    ana = emu.add_user("Ana", user_id=2**33 + 5, language_code="es")
    await started(emu, ana)
    grp = emu.add_group("Red", members=[ana, coord], admins=[ana], supergroup=True)
    emu.add_bot(grp, by=ana)
    org = await make_org(bot, ana.id, "=HYPERLINK(\"x\") Red", coordinator=coord.id)
    await ask(emu, ana, "/link", chat=grp)
    await make_org(bot, 2**35, "Pendiente", active=False)

    before = await snapshot(bot)
    in_group = await ask(emu, coord, "/export", chat=grp)
    assert "privado" in in_group.text and in_group.document is None
    assert await snapshot(bot) == before

    sent = emu.send(coord, "/export")
    doc = await emu.wait_for(lambda: [m for m in emu.bot_messages(emu.private_chat(coord))
                                      if m.document is not None and m.message_id >
                                      sent.message_id], what="the export")
    doc = doc[0]
    assert doc.protect_content is True
    stamp = dt.datetime.fromtimestamp(emu.clock.now(), dt.UTC).strftime("%Y%m%d")
    assert doc.document.filename == f"coalition-export-{stamp}.csv"
    rows = list(csv.DictReader(io.StringIO(doc.document.content.decode("utf-8-sig"))))
    orgs = [r for r in rows if r["record"] == "org"]
    assert [(r["org_id"], r["name"], r["status"]) for r in orgs] == [
        (str(org), "'=HYPERLINK(\"x\") Red", "active"), (str(org + 1), "Pendiente", "pending")]
    assert orgs[0]["areas"] == "MX-JAL" and orgs[0]["topics"] == "tax"
    chats = [(r["org_id"], r["chat_id"], r["chat_active"]) for r in rows if r["record"] == "chat"]
    assert chats == [(str(org), str(grp.id), "1")]
    contacts = {(r["org_id"], r["user_id"], r["reachable"])
                for r in rows if r["record"] == "contact"}
    assert contacts == {(str(org), str(ana.id), "1"), (str(org + 1), str(2**35), "0")}
    assert ("export", coord.id, None) in await audit(bot)


async def test_coordinators_list_add_remove_and_the_last_one(emu: Emulator, make_bot) -> None:
    first = emu.add_user("First", language_code="es")
    bot = await make_bot()
    async with bot.db.transaction() as session:
        session.add(Coordinator(user_id=first.id, added_by=None, added_at=bot.clock.now()))
    await started(emu, first)
    second = emu.add_user("Second", user_id=2**40 + 9, language_code="en")
    listing = await ask(emu, first, "/coordinators")
    assert listing.text == f"Coordinadoras: 1\n• {first.id}"
    last = await ask(emu, first, f"/coordinators remove {first.id}")
    assert "es la última coordinadora" in last.text
    added = await ask(emu, first, f"/coordinators add {second.id}")
    assert added.text.startswith(f"{second.id} ahora es coordinadora")
    assert "/start" in added.text
    listing = await ask(emu, first, "/coordinators")
    assert f"• {second.id} (⚠️ inalcanzable" in listing.text
    again = await ask(emu, first, f"/coordinators add {second.id}")
    assert "ya es coordinadora" in again.text
    await started(emu, second)
    removed = await ask(emu, second, f"/coordinators remove {first.id}")
    assert removed.text == f"{first.id} is no longer a coordinator."
    refused = await ask(emu, first, "/coordinators")
    assert refused.text == "Solo las coordinadoras pueden hacer esto."
    usage = await ask(emu, second, "/coordinators promote 5")
    assert "/coordinators add 12345" in usage.text
    async with bot.db.sessions() as session:
        assert (await session.execute(select(Coordinator.user_id))).scalars().all() == [
            second.id]
    log = await audit(bot)
    assert ("coordinator.added", first.id, second.id) in log
    assert ("coordinator.removed", second.id, first.id) in log


async def test_configured_coordinators_stay_and_add_by_reply_in_a_group(emu: Emulator,
                                                                        make_bot) -> None:
    boss = emu.add_user("Boss", language_code="en")
    bot = await make_bot(coordinator_ids=(boss.id,))
    await started(emu, boss)
    luz = emu.add_user("Luz", language_code="es")
    grp = emu.add_group("Coordinación", members=[boss, luz], admins=[boss, luz],
                        supergroup=True)
    emu.add_bot(grp, by=boss)
    await ask(emu, boss, "/language en", chat=grp)
    stays = await ask(emu, boss, f"/coordinators remove {boss.id}")
    assert "COORDINATOR_IDS" in stays.text
    hello = emu.send(luz, "/help", chat=grp)
    await emu.wait_for_bot_message(grp, after=hello)
    added = await ask(emu, boss, "/coordinators add", chat=grp, reply_to=hello)
    assert added.text.startswith(f"{luz.id} is now a coordinator.")
    anonymous = await ask(emu, luz, "/coordinators", chat=grp, anonymous=True)
    assert "anonymous" in anonymous.text
    listing = await ask(emu, luz, "/coordinators", chat=grp)
    assert f"• {boss.id} (set in COORDINATOR_IDS)" in listing.text
    async with bot.db.sessions() as session:
        assert (await session.execute(select(Coordinator.user_id))).scalars().all() == [luz.id]
    assert ("coordinator.added", boss.id, luz.id) in await audit(bot)
    async with bot.db.sessions() as session:
        assert (await session.execute(select(MemberChat))).scalars().all() == []

"""Access holes found by attacking the bot as a hostile member (issue 21, items 1–4)."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import HelpRequest
from bot.emulator import Emulator
from handlers.shared.callback_data import encode
from handlers.shared.guided import FlowChoice
from tests.alert_helpers import add_org, compose, press, send
from tests.org_helpers import ask, started
from tests.solidarity_helpers import EN, ask_for_help, last_request


async def test_ask_offers_only_alerts_that_reached_the_asker(emu: Emulator, make_bot) -> None:
    """Item 4: the 'related alert' list read every sent alert; Oaxaca's contact saw the title of
    an alert sent only to Jalisco, and could attach it by a forged press."""
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord)
    jal = await add_org(emu, bot, "Red Jalisco", contact_language="en", areas=("MX-JAL",))
    oax = await add_org(emu, bot, "Red Oaxaca", contact_language="en", areas=("MX-OAX",))
    _, summary = await compose(emu, coord, title="Solo Jalisco", es=["Ley estatal."],
                               regions=("Jalisco",))
    secret = await send(emu, bot, coord, summary)
    _, summary = await compose(emu, coord, title="Para todas", es=["Ley nacional."])
    both = await send(emu, bot, coord, summary)

    m = await ask(emu, oax.contact, "/ask")
    m = await press(emu, oax.contact, m, EN["legal"])
    m = await press(emu, oax.contact, m, EN["routine"])
    m = await ask(emu, oax.contact, "Necesitamos revisar un amparo.")
    offered = [b.text for row in m.buttons for b in row]
    assert offered == ["Para todas", EN["no_alert"]]
    # A forged press naming the Jalisco alert attaches nothing: it is not one of the choices,
    # and the question is asked again with the same two
    q = emu.forge_callback(oax.contact, emu.private_chat(oax.contact), m.message_id,
                           encode(FlowChoice("ask", "alert", str(secret.id))))
    await emu.wait_for(lambda: q.answered, what="the forged press answered")
    again = await emu.wait_for_bot_message(emu.private_chat(oax.contact), after=m)
    assert again.text.startswith("That is not one of the choices.")
    assert [b.text for row in again.buttons for b in row] == offered
    visibility = await press(emu, oax.contact, again, EN["no_alert"])
    await press(emu, oax.contact, visibility, EN["anon"])
    request = await last_request(bot)
    assert request.alert_id is None
    # Jalisco is offered both, and its choice is kept.
    await ask_for_help(emu, jal.contact, capacity="legal", urgency="routine",
                       text="Otra consulta.", visibility="anon", alert="Solo Jalisco")
    async with bot.db.sessions() as session:
        kept = (await session.execute(select(HelpRequest.alert_id).order_by(
            HelpRequest.id))).scalars().all()
    assert kept == [None, secret.id]
    del both


async def test_a_ranked_ballot_counts_for_the_group_only_from_its_members(
        emu: Emulator, make_bot) -> None:
    """Item 3: the ballot link under a group's copy counted for the group's organisation
    whoever opened it; an outsider voted last as Red Jalisco and changed the winner."""
    from tests.poll_helpers import closed_result, coalition, copies, last_poll, voted
    from tests.poll_helpers import compose as compose_poll

    c = await coalition(emu, make_bot, coord_lang="en")
    await compose_poll(emu, c.coord, "Rank our priorities", ["OSC law", "Tax reform", "AML"],
                       kind="Ranked (order the options)")
    poll = await last_poll(c.bot)
    g, p = c.groups, c.people
    tokens = {x.chat_id: x.token for x in await copies(c.bot, poll.id)}
    outsider = emu.add_user("Fuera", language_code="es")
    await started(emu, outsider)
    assert outsider.id not in g["g1"].members

    async def rank(user, labels: list[str]) -> str:  # type: ignore[no-untyped-def]
        ballot = await ask(emu, user, f"/start rk_{tokens[g['g1'].id]}")
        for label in labels:
            emu.press(user, ballot, label=label)
            ballot = await emu.wait_for_bot_message(emu.private_chat(user), after=ballot)
        emu.press(user, ballot, label="Confirmar")
        return (await emu.wait_for_bot_message(emu.private_chat(user), after=ballot)).text

    assert "se registró tu orden" in await rank(p["beto"], ["Tax reform", "OSC law"])
    assert "no cuenta en los resultados" in await rank(outsider, ["AML", "OSC law"])
    await voted(c.bot, 2)
    emu.clock.advance(2 * 86400 + 60)
    result = await closed_result(c.bot, poll.id)
    assert result["winner"] == 1 and result["strangers"] == 1


async def test_an_invitation_works_only_while_its_maker_holds_the_role(
        emu: Emulator, make_bot) -> None:
    """Item 1: a removed contact's colleague link still made a contact; a removed coordinator's
    link still registered an active organisation with no approval."""
    from bot.db.models import Contact, Invitation, Organisation
    from bot.services.membership import membership
    from tests.registration_helpers import fill, make_org, rows
    from tests.test_invitations import payload_of

    emu.clock.scale = 3.0  # callback queries live 15 emulated s: 5 wall s
    boss = emu.add_user("Boss", language_code="en")
    coco = emu.add_user("Coco", language_code="en")
    ana = emu.add_user("Ana", language_code="es")
    bot = await make_bot(coordinator_ids=(boss.id,))
    await started(emu, boss, coco, ana)
    assert "now a coordinator" in (await ask(emu, boss, f"/coordinators add {coco.id}")).text
    org = await make_org(bot, ana.id, "Red Jalisco", approved_by=boss.id)
    colleague = payload_of(await ask(emu, ana, "/invite"))
    registration = payload_of(await ask(emu, coco, "/invite"))
    named = payload_of(await ask(emu, coco, "/invite member Red Sur"))
    redeemed = payload_of(await ask(emu, coco, "/invite ally Red Norte"))

    # A newcomer redeems Coco's last link while Coco is still a coordinator...
    neo = emu.add_user("Neo", language_code="es")
    first = await ask(emu, neo, f"/start {redeemed}")
    assert "¿Qué tipo de organización es?" in first.text
    # ...then Ana stops being a contact and Coco a coordinator.
    async with bot.db.transaction() as session:
        await membership.remove_contact(session, org, ana.id, boss.id, bot.clock.now())
    assert "no longer a coordinator" in (
        await ask(emu, boss, f"/coordinators remove {coco.id}")).text

    for payload in (colleague, registration, named):
        newcomer = emu.add_user(f"New {payload[-4:]}", language_code="es")
        refused = await ask(emu, newcomer, f"/start {payload}")
        assert refused.text == ("Esta invitación ya no es válida: se retiró, o quien la hizo ya "
                                "no puede invitar. Pide una nueva.")
    async with bot.db.sessions() as session:
        contacts = (await session.execute(select(Contact.user_id))).scalars().all()
    assert contacts == []
    assert {i.code for i in await rows(bot, Invitation) if i.used_by} == {
        redeemed.removeprefix("inv_")}
    # The registration begun under Coco's link now waits for a coordinator's approval.
    summary = await fill(emu, neo, first, [
        ("press", "Colectivo activista"), ("press", "Nacional"), ("press", "Guatemala"),
        ("toggle", ([], "Listo")), ("toggle", ([], "Listo")),
        ("press", "Español"), ("press", "Solo nuestros contactos")])
    emu.press(neo, summary, label="Enviar")
    await emu.wait_for(lambda: any("Nueva solicitud" in (m.text or "") or "New registration"
                                   in (m.text or "") for m in emu.bot_messages(
                                       emu.private_chat(boss))), what="the approval request")
    [norte] = [o for o in await rows(bot, Organisation) if o.name == "Red Norte"]
    assert (norte.status, norte.decided_by) == ("pending", None)


async def test_coordinators_list_open_invitations_by_page_and_withdraw_them(
        emu: Emulator, make_bot) -> None:
    from tests.test_invitations import payload_of

    emu.clock.scale = 3.0
    boss = emu.add_user("Boss", language_code="en")
    ana = emu.add_user("Ana", language_code="es")
    await make_bot(coordinator_ids=(boss.id,))
    await started(emu, boss, ana)
    links = [payload_of(await ask(emu, boss, f"/invite member Red {n}")) for n in range(10)]
    listing = await ask(emu, boss, "/invitations")
    assert listing.text.startswith("Open invitations: 10")
    assert "1. Registration of Red 9 (Full member), made by" in listing.text
    assert "Page 1 of 2" in listing.text
    labels = [b.text for row in listing.buttons for b in row]
    assert labels == [f"Withdraw {n}" for n in range(1, 9)] + ["Next ▶️"]
    # a member is refused the command and a forged press; nothing changes
    assert (await ask(emu, ana, "/invitations")).text == "Solo las coordinadoras pueden hacer esto."
    data = listing.button("Withdraw 1").callback_data
    q = emu.forge_callback(ana, emu.private_chat(ana), listing.message_id, data)
    await emu.wait_for(lambda: q.answered, what="the forged press answered")
    assert q.answer_text == "Solo las coordinadoras pueden hacer esto." and q.show_alert
    # the coordinator withdraws the newest; its link stops working
    emu.press(boss, listing, label="Withdraw 1")
    await emu.wait_for(lambda: "Open invitations: 9" in emu.message(listing).text,
                       what="the list redrawn")
    assert "Withdrawn: that link no longer works." in emu.message(listing).text
    refused = await ask(emu, ana, f"/start {links[9]}")
    assert "ya no es válida" in refused.text
    emu.press(boss, emu.message(listing), label="Next ▶️")
    await emu.wait_for(lambda: "Page 2 of 2" in emu.message(listing).text, what="page 2")
    assert "9. Registration of Red 0" in emu.message(listing).text


async def test_removing_a_contact_asks_names_and_tells_everyone(emu: Emulator, make_bot) -> None:
    """Item 2: whoever joined through a colleague link removed every other contact at once,
    unconfirmed, and nobody was told; /contacts showed bare ids."""
    from bot.db.models import Contact
    from tests.registration_helpers import make_org
    from tests.test_invitations import payload_of

    emu.clock.scale = 3.0
    coord = emu.add_user("Coord", language_code="en")
    ana = emu.add_user("Ana", last_name="López", language_code="es")
    luis = emu.add_user("Luis", language_code="es")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord, ana, luis)
    org = await make_org(bot, ana.id, "Red Jalisco", approved_by=coord.id)
    welcome = await ask(emu, luis, f"/start {payload_of(await ask(emu, ana, '/invite'))}")
    assert "contacto de Red Jalisco" in welcome.text
    listing = await ask(emu, luis, "/contacts")
    assert f"1. Ana López ({ana.id})" in listing.text
    assert f"2. {luis.full_name} ({luis.id}) (tú)" in listing.text
    # Luis presses to remove Ana: he is asked first, and nothing has changed yet
    emu.press(luis, listing, label="Quitar 1")
    await emu.wait_for(lambda: "¿Quitar a Ana López" in emu.message(listing).text,
                       what="the confirmation")
    asked = emu.message(listing)
    assert [b.text for row in asked.buttons for b in row] == ["Sí, quitar", "No, mantener"]
    async with bot.db.sessions() as session:
        assert len((await session.execute(select(Contact.user_id))).scalars().all()) == 2
    emu.press(luis, asked, label="No, mantener")
    await emu.wait_for(lambda: "1. Ana López" in emu.message(listing).text, what="kept")
    emu.press(luis, emu.message(listing), label="Quitar 1")
    await emu.wait_for(lambda: "¿Quitar a Ana López" in emu.message(listing).text,
                       what="asked again")
    emu.press(luis, emu.message(listing), label="Sí, quitar")
    await emu.wait_for(lambda: "Ana" not in emu.message(listing).text, what="Ana removed")
    # Ana and the coordinator are told, in their languages
    told = await emu.wait_for(lambda: next((m for m in emu.bot_messages(emu.private_chat(ana))
                                            if "ya no es contacto" in (m.text or "")), None),
                              what="Ana told")
    assert told.text.startswith(f"Ana López ({ana.id}) ya no es contacto de Red Jalisco")
    coordinators = await emu.wait_for(lambda: next((
        m for m in emu.bot_messages(emu.private_chat(coord))
        if "is no longer a contact" in (m.text or "")), None), what="the coordinator told")
    assert f"Ana López ({ana.id}) is no longer a contact of Red Jalisco (#{org})" in \
        coordinators.text
    # Luis, the last contact, cannot remove himself; a coordinator can, after confirming
    mine = await ask(emu, luis, "/contacts")
    assert mine.buttons == []
    q = emu.forge_callback(luis, emu.private_chat(luis), mine.message_id,
                           f"v1:ctyes:{org}:{luis.id}")
    await emu.wait_for(lambda: q.answered, what="the refusal")
    assert "solo una coordinadora puede quitar el último" in q.answer_text
    theirs = await ask(emu, coord, f"/contacts {org}")
    assert f"1. {luis.full_name} ({luis.id})" in theirs.text
    emu.press(coord, theirs, label="Remove 1")
    await emu.wait_for(lambda: "last contact" in emu.message(theirs).text, what="warned")
    emu.press(coord, emu.message(theirs), label="Yes, remove")
    await emu.wait_for(lambda: f"({luis.id})" not in emu.message(theirs).text, what="removed")
    async with bot.db.sessions() as session:
        assert (await session.execute(select(Contact.user_id))).scalars().all() == []
    # a member of another organisation cannot press a coordinator's button
    q = emu.forge_callback(ana, emu.private_chat(ana), theirs.message_id,
                           f"v1:ctask:{org}:{luis.id}")
    await emu.wait_for(lambda: q.answered, what="refused")
    assert q.show_alert

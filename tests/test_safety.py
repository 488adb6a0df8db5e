"""Member safety (issue 6): /forget, /exit, low-profile organisations and the retention purge.

Erasure is checked where it matters: the bytes of the SQLite file and its WAL (or every
PostgreSQL row) hold none of the erased names, usernames or Telegram ids.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.db.models import (
    AnonymousCount,
    AuditEntry,
    Contact,
    MemberChat,
    Organisation,
    OutboxRow,
    Person,
)
from bot.delivery import outbox
from bot.emulator import Emulator
from bot.services.membership import membership
from tests.helpers import eventually, updates_handled
from tests.org_helpers import ask, make_org, org_row, snapshot
from tests.safety_helpers import exit_cleanup_done, leftovers

ANA_ID, BEA_ID, COCO_ID, BO_ID = 7_345_678_901, 7_345_678_902, 2**33 + 5, 7_345_678_903


@pytest.fixture(autouse=True)
def fast_clock(emu: Emulator) -> None:
    emu.clock.scale = 3.0  # callback queries live 15 emulated s: 5 wall s


async def count_rows(service, model, *where) -> int:
    async with service.db.sessions() as session:
        return int((await session.execute(
            select(func.count()).select_from(model).where(*where))).scalar_one())


async def press(emu: Emulator, user, message, label: str):
    return emu.press(user, emu.message(message), label=label)


async def send_to(service, key: str, chats: list[int], text: str) -> int:
    """A coalition message to these chats through the outbox, as any capability sends one."""
    async with service.db.transaction() as session:
        fanout = await outbox.enqueue(session, key, "test", [
            outbox.Outgoing(chat_id=c, text=text) for c in chats], service.clock.now())
    service.sender.wake()
    return fanout


async def wait_sent(service, fanout: int) -> None:
    async def done() -> bool:
        async with service.db.sessions() as session:
            return (await outbox.status(session, fanout)).done
    await eventually(done, timeout=20)


def everyone(emu: Emulator):
    coco = emu.add_user("Coco", user_id=COCO_ID, language_code="es")
    ana = emu.add_user("Anastasia Zafiro", user_id=ANA_ID, username="ana_zafiro_x",
                       language_code="es")
    bea = emu.add_user("Beatriz Quetzal", user_id=BEA_ID, username="bea_quetzal_x",
                       language_code="en")
    return coco, ana, bea


async def org_with_two_contacts(emu: Emulator, service, ana, bea) -> int:
    org = await make_org(service, ana.id, "Colectivo Zafiro Norte", coordinator=COCO_ID)
    async with service.db.transaction() as session:
        await membership.add_contact(session, org, bea.id, ana.id, service.clock.now())
    return org


# -- /forget --------------------------------------------------------------------------------------

async def test_forget_erases_the_person_and_keeps_the_org(emu: Emulator, make_bot) -> None:
    coco, ana, bea = everyone(emu)
    service = await make_bot(coordinator_ids=(COCO_ID,))
    for person in (coco, ana, bea):
        await ask(emu, person, "/start")
    org = await org_with_two_contacts(emu, service, ana, bea)
    await ask(emu, ana, "/profile")
    await ask(emu, ana, "/contacts")
    fanout = await send_to(service, "test:1", [ana.id, bea.id], "A coalition message")
    await wait_sent(service, fanout)

    question = await ask(emu, ana, "/forget")
    assert "¿Lo confirmas?" in question.text
    await press(emu, ana, question, "Sí, borrar mis datos")
    await emu.wait_for(lambda: "ya no guarda nada sobre ti" in emu.message(question).text,
                       what="the confirmation")

    assert await count_rows(service, Person, Person.id == ana.id) == 0
    assert await count_rows(service, Contact, Contact.org_id == org) == 1
    assert (await org_row(service, org)).status == "active"
    assert await count_rows(service, OutboxRow, OutboxRow.chat_id == ana.id) == 0
    assert await count_rows(service, OutboxRow, OutboxRow.chat_id == bea.id) == 1
    found = await leftovers(service, ["Anastasia Zafiro", "ana_zafiro_x"], [ana.id],
                            checkpoint=False)
    assert found == [], found
    # Bea, the other contact, is untouched: her id is still there.
    assert await leftovers(service, [], [bea.id]) != []
    # No coordinator was told anything: the organisation still has a contact.
    assert not [m for m in emu.bot_messages(emu.private_chat(coco)) if "contacto" in m.text]


async def test_the_last_contact_forgetting_is_flagged_to_coordinators(emu: Emulator,
                                                                      make_bot) -> None:
    coco, ana, _ = everyone(emu)
    service = await make_bot(coordinator_ids=(COCO_ID,))
    await ask(emu, coco, "/start")
    await ask(emu, ana, "/start")
    org = await make_org(service, ana.id, "Colectivo Zafiro Norte", coordinator=COCO_ID)
    question = await ask(emu, ana, "/forget")
    await press(emu, ana, question, "Sí, borrar mis datos")
    notice = await emu.wait_for(lambda: next((m for m in emu.bot_messages(emu.private_chat(coco))
                                              if "#" in m.text), None), what="the flag")
    assert notice.text == (f"La organización #{org} ya no tiene ningún contacto: su último "
                           "contacto borró sus datos. Invita a un nuevo contacto con /members.")
    assert await leftovers(service, ["Anastasia Zafiro", "ana_zafiro_x"], [ana.id],
                            checkpoint=False) == []


async def test_forget_refused_to_coordinators_and_in_groups_and_kept_on_no(
        emu: Emulator, make_bot) -> None:
    coco, ana, bea = everyone(emu)
    service = await make_bot(coordinator_ids=(COCO_ID,))
    await ask(emu, ana, "/start")
    await org_with_two_contacts(emu, service, ana, bea)
    grp = emu.add_group("Zafiro", members=[ana], admins=[ana])
    emu.add_bot(grp, by=ana)
    before = await snapshot(service)
    refused = await ask(emu, coco, "/forget")
    assert "Eres coordinador/a" in refused.text and not refused.buttons
    in_group = await ask(emu, ana, "/forget", chat=grp)
    assert in_group.text == "Por favor, envía este comando en tu chat privado conmigo."
    question = await ask(emu, ana, "/forget")
    await press(emu, ana, question, "No, conservarlos")
    await emu.wait_for(lambda: emu.message(question).text == "No se borró nada.",
                       what="nothing erased")
    # A forged confirmation from the coordinator erases nothing either.
    emu.forge_callback(coco, emu.private_chat(coco), question.message_id, data="v1:fgt")
    await emu.wait_for(lambda: not emu.unanswered_callbacks(), what="the forged press answered")
    after = await snapshot(service)
    for table in ("people", "contacts", "organisations", "member_chats", "outbox"):
        assert after[table] == before[table] or table == "people", table
    assert await count_rows(service, Person, Person.id == ana.id) == 1
    assert await count_rows(service, Person, Person.id == coco.id) == 1


# -- /exit ----------------------------------------------------------------------------------------

async def test_exit_erases_the_org_deletes_recent_messages_and_leaves(emu: Emulator,
                                                                      make_bot) -> None:
    coco, ana, bea = everyone(emu)
    service = await make_bot(coordinator_ids=(COCO_ID,))
    for person in (coco, ana, bea):
        await ask(emu, person, "/start")
    org = await org_with_two_contacts(emu, service, ana, bea)
    grp = emu.add_group("Zafiro interno", members=[ana, bea], admins=[ana], supergroup=True)
    emu.add_bot(grp, by=ana)
    linked = await ask(emu, ana, "/link", chat=grp)
    assert "Colectivo Zafiro Norte" in linked.text
    # An old message (over 48 hours) and a recent coalition message in the group.
    old = await send_to(service, "test:old", [grp.id], "An old coalition message")
    await wait_sent(service, old)
    emu.clock.advance(49 * 3600)
    recent = await send_to(service, "test:new", [grp.id, ana.id, bea.id], "A recent one")
    await wait_sent(service, recent)
    old_copy = next(m for m in emu.bot_messages(grp) if m.text == "An old coalition message")
    recent_reply = await ask(emu, ana, "/help", chat=grp)
    # The reply is on screen before the handler records it for deletion.
    await eventually(lambda: updates_handled(service), what="the /help update handled")

    question = await ask(emu, ana, "/exit")
    assert "Salida de emergencia" in question.text
    await press(emu, ana, question, "Borrar todo y salir")
    notice = await emu.wait_for(lambda: next((m for m in emu.bot_messages(emu.private_chat(coco))
                                              if "salió" in m.text), None), what="the notice")
    assert notice.text == "Una organización salió de la coalición y borró sus datos."

    await emu.wait_for(lambda: any(r.method == "leaveChat" and r.chat_id == grp.id
                                   for r in emu.requests), what="the bot leaves the group")
    group_bot = [m for m in emu.transcript(grp) if m.from_bot and not m.service]
    # Messages over 48 hours old cannot be deleted (Telegram refuses): the link's confirmation
    # and the old message stay; every recent one is gone.
    assert [m.text for m in group_bot if not m.deleted] == [linked.text, old_copy.text]
    assert emu.message(recent_reply).deleted
    assert [m.text for m in group_bot if m.deleted] == ["A recent one", recent_reply.text]
    for person in (ana, bea):
        assert not [m for m in emu.bot_messages(emu.private_chat(person))
                    if m.text == "A recent one"]

    assert await count_rows(service, Organisation) == 0
    assert await count_rows(service, Contact) == 0
    assert await count_rows(service, MemberChat) == 0
    async with service.db.sessions() as session:
        counts = dict((await session.execute(
            select(AnonymousCount.name, AnonymousCount.count))).all())
    assert counts["orgs_exited"] == 1
    await eventually(lambda: exit_cleanup_done(service), timeout=10)
    await eventually(lambda: updates_handled(service), timeout=10)
    found = await leftovers(
        service, ["Colectivo Zafiro Norte", "Anastasia Zafiro", "ana_zafiro_x",
                  "Beatriz Quetzal", "bea_quetzal_x", "Zafiro interno"],
        [ana.id, bea.id, grp.id], checkpoint=False)
    assert found == [], found
    del org


async def test_exit_refused_to_strangers_and_forged_presses(emu: Emulator, make_bot) -> None:
    coco, ana, bea = everyone(emu)
    eve = emu.add_user("Eve", user_id=BO_ID, language_code="es")
    service = await make_bot(coordinator_ids=(COCO_ID,))
    await ask(emu, ana, "/start")
    org = await org_with_two_contacts(emu, service, ana, bea)
    before = await snapshot(service)
    refused = await ask(emu, eve, "/exit")
    assert refused.text == "Solo los contactos de una organización miembro pueden usar /exit."
    by_coordinator = await ask(emu, coco, "/exit")
    assert by_coordinator.text == refused.text
    emu.forge_callback(eve, emu.private_chat(eve), refused.message_id, data=f"v1:exit:{org}")
    await emu.wait_for(lambda: not emu.unanswered_callbacks(), what="the forged press answered")
    after = await snapshot(service)
    for table in ("organisations", "contacts", "member_chats", "anonymous_counts"):
        assert after[table] == before[table], table
    # A contact of another organisation cannot make this one exit either.
    await make_org(service, BO_ID + 10, "Otra Red", coordinator=COCO_ID)
    emu.add_user("Otro", user_id=BO_ID + 10)
    emu.forge_callback(emu.user(BO_ID + 10), emu.private_chat(emu.user(BO_ID + 10)), 1,
                       data=f"v1:exit:{org}")
    await emu.wait_for(lambda: not emu.unanswered_callbacks(), what="the forged press answered")
    assert (await org_row(service, org)).status == "active"


# -- low profile ----------------------------------------------------------------------------------

async def test_low_profile_set_by_a_contact_protects_and_deletes(emu: Emulator,
                                                                 make_bot) -> None:
    _, ana, bea = everyone(emu)
    service = await make_bot(coordinator_ids=(COCO_ID,))
    await ask(emu, ana, "/start")
    org = await org_with_two_contacts(emu, service, ana, bea)
    grp = emu.add_group("Zafiro interno", members=[ana], admins=[ana])
    emu.add_bot(grp, by=ana)
    await ask(emu, ana, "/link", chat=grp)

    menu = await ask(emu, ana, "/lowprofile")
    assert "Desactivado" in menu.text
    await press(emu, ana, menu, "Activar")
    await emu.wait_for(lambda: "Activado" in emu.message(menu).text, what="turned on")
    await press(emu, ana, menu, "Poner un alias")
    prompt = await emu.wait_for(lambda: next((m for m in emu.bot_messages(emu.private_chat(ana))
                                              if m.text.startswith("Escribe el alias")), None),
                                what="the alias prompt")
    assert "60" in prompt.text
    shown = await ask(emu, ana, "Red Uno")
    assert "Se muestra a los demás miembros como: Red Uno" in shown.text
    await press(emu, ana, shown, "Borrar a las 1 h")
    await emu.wait_for(lambda: "Se borran después de 1 hora." in emu.message(shown).text,
                       what="deletion set")
    row = await org_row(service, org)
    assert (row.low_profile, row.alias, row.delete_after_hours) == (True, "Red Uno", 1)

    fanout = await send_to(service, "test:lp", [grp.id, bea.id], "For the coalition")
    await wait_sent(service, fanout)
    copy = next(m for m in emu.bot_messages(grp) if m.text == "For the coalition")
    assert copy.protect_content is True
    reply = await ask(emu, ana, "/help", chat=grp)
    assert reply.protect_content is True
    emu.clock.advance(3600 + 60)
    await emu.wait_for(lambda: emu.message(copy).deleted and emu.message(reply).deleted,
                       what="the low-profile messages deleted after an hour")


async def test_low_profile_by_a_coordinator_and_refused_to_others(emu: Emulator,
                                                                 make_bot) -> None:
    coco, ana, bea = everyone(emu)
    eve = emu.add_user("Eve", user_id=BO_ID, language_code="es")
    service = await make_bot(coordinator_ids=(COCO_ID,))
    await ask(emu, coco, "/start")
    org = await org_with_two_contacts(emu, service, ana, bea)
    other = await make_org(service, eve.id, "Otra Red", coordinator=COCO_ID)
    menu = await ask(emu, coco, f"/lowprofile {org}")
    assert "Colectivo Zafiro Norte" in menu.text
    await press(emu, coco, menu, "Activar")
    await emu.wait_for(lambda: "Activado" in emu.message(menu).text, what="turned on")
    assert (await org_row(service, org)).low_profile is True
    # Eve, the contact of another organisation, presses a forged button for this one.
    before = await snapshot(service)
    emu.forge_callback(eve, emu.private_chat(eve), 1, data=f"v1:lp:{org}:off:0")
    await emu.wait_for(lambda: not emu.unanswered_callbacks(), what="the forged press answered")
    assert emu.callback_answers[-1][1] == ("Solo los contactos de la organización o la "
                                           "coordinación pueden cambiar esto.")
    after = await snapshot(service)
    met = ("people", "chats")  # a press meets the person and their private chat; no more
    assert {k: v for k, v in after.items() if k not in met} == {
        k: v for k, v in before.items() if k not in met}
    # Eve's own /lowprofile shows her organisation, never another's by number.
    own = await ask(emu, eve, f"/lowprofile {org}")
    assert "Otra Red" in own.text and "Zafiro" not in own.text
    del other


# -- retention ------------------------------------------------------------------------------------

async def test_retention_purges_old_delivery_rows_and_audit(emu: Emulator, make_bot) -> None:
    _, ana, bea = everyone(emu)
    service = await make_bot(coordinator_ids=(COCO_ID,), retention_days=30)
    await ask(emu, ana, "/start")
    await org_with_two_contacts(emu, service, ana, bea)
    old = await send_to(service, "test:old", [ana.id], "Old news")
    await wait_sent(service, old)
    assert await count_rows(service, AuditEntry) > 0
    emu.clock.advance(31 * 86400)
    new = await send_to(service, "test:new", [ana.id], "New news")
    await wait_sent(service, new)

    async def purged() -> bool:
        return (await count_rows(service, OutboxRow, OutboxRow.fanout_id == old) == 0
                and await count_rows(service, AuditEntry,
                                     AuditEntry.at < service.clock.now() - timedelta(days=30))
                == 0)

    await eventually(purged, timeout=20)
    assert await count_rows(service, OutboxRow, OutboxRow.fanout_id == new) == 1


# -- erasure reaches every capability's rows -----------------------------------------------------

async def capability_rows(service, org: int, person: int, chat: int, name: str) -> None:
    """Rows of alerts, polls, actions and solidarity that hold this person's id (and, for an
    introduction, their name) or this chat's id, as those capabilities write them."""
    from bot.db.models import (
        Action,
        ActionRsvp,
        ActionStranger,
        ActionTarget,
        Alert,
        AlertAnswer,
        AlertStranger,
        AlertTarget,
        HelpOffer,
        HelpRelay,
        HelpRequest,
        HelpTarget,
        Poll,
        PollCopy,
        PollVote,
    )
    now = service.clock.now()
    async with service.db.transaction() as session:
        alert = Alert(title="t", status="sent", sent_at=now, created_at=now, updated_at=now,
                      topics=[], regions=[], kinds=[], asks=["acknowledge"], audience="all",
                      strangers_erased=0, composed_by=COCO_ID)
        poll = Poll(question="q", options=["a", "b"], kind="single", counting="org",
                    allies_count=False, audience={}, status="open", created_at=now,
                    closes_at=now + timedelta(days=3), reached_orgs=1)
        action = Action(title="a", kind="hearing", starts_at=now + timedelta(days=3),
                        timezone="UTC", topics=[], regions=[], audience="all", kinds=[],
                        offsets=[], status="scheduled", version=1, created_at=now,
                        updated_at=now, strangers_erased=0)
        request = HelpRequest(org_id=org, asked_by=person, capacity="legal", text="help",
                              created_at=now)
        session.add_all([alert, poll, action, request])
        await session.flush()
        copy = PollCopy(poll_id=poll.id, chat_id=chat, org_id=org, private=chat > 0,
                        token=f"tok{chat % 10_000}")
        session.add(copy)
        await session.flush()
        session.add_all([
            AlertTarget(alert_id=alert.id, chat_id=chat, org_id=org, language="es"),
            AlertAnswer(alert_id=alert.id, org_id=org, answer="acknowledge",
                        answered_by=person, answered_at=now),
            AlertStranger(alert_id=alert.id, user_id=person, answer="acknowledge",
                          pressed_at=now),
            PollVote(ballot=f"tg{chat % 1000}", user_id=person, poll_id=poll.id, copy_id=copy.id,
                     org_id=org, standing="org", choices=[0], seq=1, at=now),
            ActionTarget(action_id=action.id, chat_id=chat, org_id=org),
            ActionRsvp(action_id=action.id, org_id=org, answer="going", answered_by=person,
                       answered_at=now),
            ActionStranger(action_id=action.id, user_id=person, answer="going",
                           pressed_at=now),
            HelpTarget(request_id=request.id, chat_id=chat, org_id=org),
            HelpOffer(request_id=request.id, org_id=org + 1000, answer="help",
                      answered_by=person, intro_name=name, intro_username="ana_zafiro_x",
                      asker_chat_id=person, helper_chat_id=person, answered_at=now),
            HelpRelay(request_id=request.id, offer_org_id=org + 1000, from_chat_id=person,
                      from_message_id=1, to_chat_id=person, at=now),
        ])


async def test_forget_reaches_answers_votes_rsvps_and_requests(emu: Emulator,
                                                              make_bot) -> None:
    coco, ana, bea = everyone(emu)
    service = await make_bot(coordinator_ids=(COCO_ID,))
    await ask(emu, ana, "/start")
    org = await org_with_two_contacts(emu, service, ana, bea)
    await capability_rows(service, org, ana.id, ana.id, "Anastasia Zafiro")
    question = await ask(emu, ana, "/forget")
    await press(emu, ana, question, "Sí, borrar mis datos")
    await emu.wait_for(lambda: "ya no guarda nada sobre ti" in emu.message(question).text,
                       what="the confirmation")
    found = await leftovers(service, ["Anastasia Zafiro", "ana_zafiro_x"], [ana.id],
                            checkpoint=False)
    assert found == [], found
    from bot.db.models import AlertAnswer, PollVote
    # The organisation's answer and vote stay, without the person.
    assert await count_rows(service, AlertAnswer, AlertAnswer.org_id == org) == 1
    assert await count_rows(service, PollVote, PollVote.org_id == org) == 1
    del coco


async def test_exit_reaches_every_capability(emu: Emulator, make_bot) -> None:
    coco, ana, bea = everyone(emu)
    service = await make_bot(coordinator_ids=(COCO_ID,))
    await ask(emu, ana, "/start")
    await ask(emu, coco, "/start")
    org = await org_with_two_contacts(emu, service, ana, bea)
    grp = emu.add_group("Zafiro interno", members=[ana], admins=[ana], supergroup=True)
    emu.add_bot(grp, by=ana)
    await ask(emu, ana, "/link", chat=grp)
    await capability_rows(service, org, ana.id, grp.id, "Anastasia Zafiro")
    await capability_rows(service, org, bea.id, bea.id, "Beatriz Quetzal")
    question = await ask(emu, ana, "/exit")
    await press(emu, ana, question, "Borrar todo y salir")
    await emu.wait_for(lambda: any("salió" in m.text
                                   for m in emu.bot_messages(emu.private_chat(coco))),
                       what="the notice")
    await eventually(lambda: exit_cleanup_done(service), timeout=10)
    await eventually(lambda: updates_handled(service), timeout=10)
    found = await leftovers(
        service, ["Colectivo Zafiro Norte", "Anastasia Zafiro", "ana_zafiro_x",
                  "Beatriz Quetzal", "bea_quetzal_x", "Zafiro interno"],
        [ana.id, bea.id, grp.id], checkpoint=False)
    assert found == [], found

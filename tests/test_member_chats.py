"""Member chats (/link), an organisation's own profile, contacts and leaving, and the lifecycle of
groups and people: removed, added back, migrated, blocked (issue 5)."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import AuditEntry, Chat, Contact, MemberChat, OutboxRow, Person
from bot.emulator import Emulator
from bot.services.membership import membership
from tests.helpers import eventually
from tests.org_helpers import ask, make_org, org_row, snapshot, started


async def member_chats(service) -> list[MemberChat]:
    async with service.db.sessions() as session:
        return list((await session.execute(select(MemberChat))).scalars().all())


async def audit_actions(service) -> list[tuple[str, int | None, int | None]]:
    async with service.db.sessions() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(r.action, r.actor_id, r.target_id) for r in rows]


async def test_link_by_a_contact_who_administers_the_group(emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    grp = emu.add_group("Red Jalisco", members=[ana], admins=[ana])
    emu.add_bot(grp, by=ana)
    org = await make_org(bot, ana.id, "Red <Jalisco> & Co")
    done = await ask(emu, ana, "/link", chat=grp)
    assert done.text == ("Hecho: este grupo ahora recibe los mensajes de la coalición para "
                         "Red <Jalisco> & Co.")
    assert "&lt;Jalisco&gt; &amp; Co" in done.html
    [row] = await member_chats(bot)
    assert (row.chat_id, row.org_id, row.active, row.public) == (grp.id, org, True, False)
    assert row.member_count == 2 and row.linked_by == ana.id
    assert ("chat.linked", ana.id, grp.id) in await audit_actions(bot)


async def test_link_in_english_in_a_supergroup_with_big_ids(emu: Emulator, bot) -> None:
    big = emu.add_user("Big", user_id=2**33 + 7, language_code="en")
    grp = emu.add_group("Big Net", members=[big], admins=[big], supergroup=True)
    assert grp.id < -1_000_000_000_000
    emu.add_bot(grp, by=big)
    await ask(emu, big, "/language en", chat=grp)
    org = await make_org(bot, big.id, "Big Net")
    done = await ask(emu, big, "/link", chat=grp)
    assert done.text == "Done: this group now receives the coalition's messages for Big Net."
    [row] = await member_chats(bot)
    assert (row.chat_id, row.org_id, row.linked_by) == (grp.id, org, 2**33 + 7)


async def test_link_refused_to_non_admins_strangers_and_anonymous_admins(emu: Emulator,
                                                                          bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    bob = emu.add_user("Bob", language_code="en")
    eve = emu.add_user("Eve")
    grp = emu.add_group("Red Jalisco", members=[ana, bob, eve], admins=[eve, ana])
    emu.add_bot(grp, by=eve)
    await make_org(bot, ana.id, "Red Jalisco")
    await make_org(bot, bob.id, "Red Bob")
    await ask(emu, eve, "/help", chat=grp)
    private = await ask(emu, ana, "/link")
    assert "/link" in private.text and "grupo" in private.text
    before = await snapshot(bot)
    not_admin = await ask(emu, bob, "/link", chat=grp)
    assert not_admin.text == ("Solo un administrador de este grupo puede vincularlo a una "
                              "organización.")
    stranger = await ask(emu, eve, "/link", chat=grp)
    assert stranger.text == ("Solo los contactos de una organización miembro activa pueden "
                             "hacer esto.")
    anonymous = await ask(emu, ana, "/link", chat=grp, anonymous=True)
    assert "administrador anónimo" in anonymous.text
    assert await member_chats(bot) == []
    after = await snapshot(bot)
    assert after == before


async def test_public_and_large_groups_are_flagged(emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana", language_code="en")
    crowd = [emu.add_user(f"P{i}") for i in range(55)]
    public = emu.add_group("Open", members=[ana], admins=[ana], supergroup=True,
                           username="open_red")
    large = emu.add_group("Large", members=[ana, *crowd], admins=[ana])
    small = emu.add_group("Small", members=[ana], admins=[ana])
    for g in (public, large, small):
        emu.add_bot(g, by=ana)
        await ask(emu, ana, "/language en", chat=g)
    await make_org(bot, ana.id, "Red")
    flagged = await ask(emu, ana, "/link", chat=public)
    assert "public" in flagged.text and "members" not in flagged.text
    big = await ask(emu, ana, "/link", chat=large)
    assert "57 members" in big.text and "public" not in big.text
    plain = await ask(emu, ana, "/link", chat=small)
    assert "⚠️" not in plain.text
    rows = {r.chat_id: r for r in await member_chats(bot)}
    assert rows[public.id].public and not rows[large.id].public
    assert rows[large.id].member_count == 57


async def test_a_group_linked_to_another_org_is_refused(emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    bob = emu.add_user("Bob", language_code="es")
    grp = emu.add_group("Shared", members=[ana, bob], admins=[ana, bob])
    emu.add_bot(grp, by=ana)
    first = await make_org(bot, ana.id, "Uno")
    await make_org(bot, bob.id, "Dos")
    await ask(emu, ana, "/link", chat=grp)
    refused = await ask(emu, bob, "/link", chat=grp)
    assert "ya está vinculado a otra organización" in refused.text
    [row] = await member_chats(bot)
    assert row.org_id == first


async def test_removed_added_back_and_migrated_group_keeps_one_member_chat(emu: Emulator,
                                                                          bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    grp = emu.add_group("Red", members=[ana], admins=[ana])
    emu.add_bot(grp, by=ana)
    await ask(emu, ana, "/language en", chat=grp)
    org = await make_org(bot, ana.id, "Red")
    await ask(emu, ana, "/link", chat=grp)

    async def chat_active(chat_id: int) -> bool | None:
        async with bot.db.sessions() as session:
            row = await session.get(Chat, chat_id)
            return None if row is None else row.active

    emu.remove_bot(grp, by=ana)
    await eventually(lambda: _is(chat_active(grp.id), False), what="inactive once removed")
    emu.add_bot(grp, by=ana)
    await eventually(lambda: _is(chat_active(grp.id), True), what="active once added back")
    assert len(await member_chats(bot)) == 1

    new = emu.migrate(grp)
    assert new.id < -1_000_000_000_000

    async def moved() -> bool:
        rows = await member_chats(bot)
        return [(r.chat_id, r.org_id) for r in rows] == [(new.id, org)]

    await eventually(moved, what="the member chat under the supergroup's id")
    async with bot.db.sessions() as session:
        assert await session.get(Chat, grp.id) is None
        moved_chat = await session.get(Chat, new.id)
        assert moved_chat.language == "en" and moved_chat.type == "supergroup"
    again = await ask(emu, ana, "/link", chat=new)
    assert again.text.startswith("Done")
    assert [(r.chat_id, r.org_id) for r in await member_chats(bot)] == [(new.id, org)]
    # linking what is already linked changes nothing, not even the audit log
    before = await snapshot(bot)
    await ask(emu, ana, "/link", chat=new)
    assert await snapshot(bot) == before


async def test_a_person_who_blocks_is_unreachable_until_they_start_again(emu: Emulator,
                                                                         bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    await started(emu, ana)

    async def reachable() -> bool | None:
        async with bot.db.sessions() as session:
            row = await session.get(Person, ana.id)
            return None if row is None else row.reachable

    emu.block(ana)
    await eventually(lambda: _is(reachable(), False), what="unreachable once blocked")
    emu.unblock(ana)
    await ask(emu, ana, "/start")
    assert await reachable() is True


async def test_profile_shows_everything_and_each_change_is_audited(emu: Emulator, bot,
                                                                   caplog) -> None:
    ana = emu.add_user("Ana", language_code="es")
    org = await make_org(bot, ana.id, "Red <Jalisco>")
    shown = await ask(emu, ana, "/profile")
    assert "Red <Jalisco>" in shown.text and "&lt;Jalisco&gt;" in shown.html
    for part in ("Tipo: Organización de la sociedad civil", "Membresía: Integrante plena",
                 "Trabaja en: Jalisco", "Temas que sigue: Impuestos",
                 "Capacidades que ofrece: Asesoría legal", "Idioma: Español",
                 "Estado: Activa"):
        assert part in shown.text, part

    emu.press(ana, shown, label="Temas")
    await emu.wait_for(lambda: emu.message(shown).edit_date, what="the topic toggles")
    data = emu.message(shown).button(label="▫️ Vigilancia").callback_data
    emu.press(ana, shown, label="▫️ Vigilancia")
    await emu.wait_for(lambda: "Vigilancia" in emu.message(shown).text, what="surveillance on")
    # the same press handled again (rule U) leaves it on, and audits nothing more
    again = emu.forge_callback(ana, emu.private_chat(ana), shown.message_id, data)
    await emu.wait_for(lambda: again.answered, what="the replayed press")
    assert "Impuestos, Vigilancia" in emu.message(shown).text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    emu.press(ana, shown, label="Listo")
    await emu.wait_for(lambda: emu.message(shown).button(label="Capacidades"), what="main keys")
    emu.press(ana, shown, label="🌐 English")
    await emu.wait_for(lambda: "Idioma: Inglés" in emu.message(shown).text, what="english")
    emu.press(ana, shown, label="Quién responde por nosotros")
    await emu.wait_for(lambda: "Solo nuestros contactos" in emu.message(shown).text,
                       what="only contacts answer")
    emu.press(ana, shown, label="Cambiar nombre")
    question = await emu.wait_for_bot_message(emu.private_chat(ana), after=shown)
    assert "nuevo nombre" in question.text
    bad = await ask(emu, ana, "x")
    assert "de 2 a 120 caracteres" in bad.text
    renamed = await ask(emu, ana, "  Red   Occidente ")
    assert renamed.text.startswith("Red Occidente")

    row = await org_row(bot, org)
    assert (row.name, row.language, row.topics, row.only_contacts_answer) == (
        "Red Occidente", "en", ["tax", "surveillance"], True)
    actions = [a for a, actor, _ in await audit_actions(bot) if actor == ana.id]
    assert actions[1:] == ["profile.topics", "profile.language", "profile.answering",
                           "profile.name"]


async def test_profile_in_english_and_refused_to_strangers(emu: Emulator, bot) -> None:
    john = emu.add_user("John", language_code="en")
    eve = emu.add_user("Eve", language_code="en")
    grp = emu.add_group("G", members=[john], admins=[john])
    emu.add_bot(grp, by=john)
    await make_org(bot, john.id, "Rights Lab", language="en")
    shown = await ask(emu, john, "/profile")
    assert "Topics it follows: Taxes" in shown.text
    assert "Who answers for us: Anyone in our member chats, or our contacts" in shown.text
    in_group = await ask(emu, john, "/profile", chat=grp)
    assert "chat privado" in in_group.text and "Rights Lab" not in in_group.text
    refused = await ask(emu, eve, "/profile")
    assert refused.text == "Only the contacts of an active member organisation can do this."


async def test_contacts_remove_another_but_never_the_last(emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    luis = emu.add_user("Luis", user_id=2**40 + 3, language_code="es")
    org = await make_org(bot, ana.id, "Red")
    async with bot.db.transaction() as session:
        await membership.add_contact(session, org, luis.id, ana.id, bot.clock.now())
    await started(emu, ana, luis)
    listing = await ask(emu, ana, "/contacts")
    assert f"1. {ana.full_name} ({ana.id}) (tú)" in listing.text
    assert f"2. {luis.full_name} ({luis.id})" in listing.text
    emu.press(ana, listing, label="Quitar 2")
    await emu.wait_for(lambda: "¿Quitar a Luis" in emu.message(listing).text,
                       what="the confirmation")
    emu.press(ana, emu.message(listing), label="Sí, quitar")
    await emu.wait_for(lambda: str(luis.id) not in emu.message(listing).text,
                       what="Luis removed")
    assert emu.message(listing).buttons == []
    told = await emu.wait_for(lambda: next((m for m in emu.bot_messages(emu.private_chat(luis))
                                            if "ya no es contacto" in (m.text or "")), None),
                              what="Luis told")
    assert told.text.startswith(f"{luis.full_name} ({luis.id}) ya no es contacto de Red")
    async with bot.db.sessions() as session:
        assert (await session.execute(select(Contact.user_id))).scalars().all() == [ana.id]
    assert ("contact.removed", ana.id, luis.id) in await audit_actions(bot)
    # the last one: a forged press to remove oneself is refused
    before = await snapshot(bot)
    q = emu.forge_callback(ana, emu.private_chat(ana), listing.message_id,
                           f"v1:ctrm:{ana.id}")
    await emu.wait_for(lambda: q.answered, what="the refusal")
    assert "al menos un contacto" in q.answer_text
    assert await snapshot(bot) == before


async def test_leave_is_confirmed_and_tells_the_coordinators(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord)
    ana = emu.add_user("Ana", language_code="es")
    grp = emu.add_group("Red", members=[ana], admins=[ana])
    emu.add_bot(grp, by=ana)
    org = await make_org(bot, ana.id, "Red Sur", coordinator=coord.id)
    await ask(emu, ana, "/link", chat=grp)
    asked = await ask(emu, ana, "/leave")
    assert "Red Sur" in asked.text
    emu.press(ana, asked, label="No, me quedo")
    await emu.wait_for(lambda: "No cambió nada" in emu.message(asked).text, what="kept")
    assert (await org_row(bot, org)).status == "active"
    asked = await ask(emu, ana, "/leave")
    emu.press(ana, asked, label="Sí, salir de la coalición")
    await emu.wait_for(lambda: "ha salido" in emu.message(asked).text, what="left")
    assert (await org_row(bot, org)).status == "left"
    assert [r.active for r in await member_chats(bot)] == [False]
    expected = f"Organisation #{org} (Red Sur) has left the coalition."
    await emu.wait_for(lambda: [m for m in emu.bot_messages(emu.private_chat(coord))
                                if m.text == expected], what="the coordinator's notice")
    # a replayed press changes nothing and tells nobody again
    q = emu.forge_callback(ana, emu.private_chat(ana), asked.message_id, f"v1:leave:{org}")
    await emu.wait_for(lambda: q.answered, what="the second press answered")
    async with bot.db.sessions() as session:
        assert len((await session.execute(select(OutboxRow))).scalars().all()) == 1
    assert [a for a, _, _ in await audit_actions(bot)].count("org.left") == 1


async def _is(value, expected) -> bool:
    return (await value) is expected


async def test_leave_notice_goes_to_the_coordination_group_when_there_is_one(
        emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="es")
    team = emu.add_group("Coordinación", members=[coord], admins=[coord], supergroup=True)
    bot = await make_bot(coordinator_ids=(coord.id,), coordination_chat_id=team.id)
    await started(emu, coord)
    emu.add_bot(team, by=coord)
    ana = emu.add_user("Ana", user_id=2**33 + 1, language_code="en")
    org = await make_org(bot, ana.id, "Red <Norte>", coordinator=coord.id)
    asked = await ask(emu, ana, "/leave")
    emu.press(ana, asked, label="Yes, leave the coalition")
    expected = f"La organización #{org} (Red <Norte>) ha salido de la coalición."
    await emu.wait_for(lambda: [m for m in emu.bot_messages(team) if m.text == expected],
                       what="the notice in the coordination group")
    assert [m.text for m in emu.bot_messages(emu.private_chat(coord))
            if "salido" in m.text] == []


async def test_contacts_change_their_member_chats_settings_without_being_admins(
        emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    luis = emu.add_user("Luis", user_id=2**33 + 2, language_code="es")
    eve = emu.add_user("Eve", language_code="es")
    grp = emu.add_group("Red", members=[ana, luis, eve], admins=[ana], supergroup=True)
    emu.add_bot(grp, by=ana)
    org = await make_org(bot, ana.id, "Red")
    async with bot.db.transaction() as session:
        await membership.add_contact(session, org, luis.id, ana.id, bot.clock.now())
    refused = await ask(emu, luis, "/language en", chat=grp)
    assert refused.text == ("Solo las personas administradoras del grupo pueden cambiar su "
                            "configuración.")
    await ask(emu, ana, "/link", chat=grp)
    done = await ask(emu, luis, "/language en", chat=grp)
    assert "English" in done.text
    stranger = await ask(emu, eve, "/timezone Europe/Madrid", chat=grp)
    assert stranger.text == "Only the group's admins can change this group's settings."
    async with bot.db.sessions() as session:
        row = await session.get(Chat, grp.id)
        assert (row.language, row.timezone) == ("en", None)

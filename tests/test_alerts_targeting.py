"""Rule T through the emulator: a table of organisations × alerts reaches exactly the chats the
rule names; the preview's counts equal what is then delivered; each chat reads its language."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from bot.db.models import Alert, Chat, Organisation
from bot.emulator import Emulator
from bot.services.alerts import alerts
from handlers.alerts.copies import alert_copy
from tests.alert_helpers import Org, add_org, alert_copies, compose, outbox_chats, send
from tests.delivery_helpers import finished


async def world(emu: Emulator, bot: Any) -> dict[str, Org]:
    orgs = {
        "A": await add_org(emu, bot, "Alfa", areas=("MX-JAL",), topics=("tax",)),
        "B": await add_org(emu, bot, "Beta", groups=2, tier="ally", kind="foundation",
                           areas=("MX-OAX",), topics=("aml",)),
        "C": await add_org(emu, bot, "Gamma", groups=0, kind="academic", scope="national",
                           areas=("MX",), topics=("tax",), contact_language="en"),
        "D": await add_org(emu, bot, "Delta", scope="national", areas=("GT",),
                           topics=("surveillance",)),
        "E": await add_org(emu, bot, "Epsilon", areas=("MX-JAL",), topics=("tax",)),
        "F": await add_org(emu, bot, "Fi", areas=("MX-JAL",), topics=("tax",)),
        "L": await add_org(emu, bot, "Lambda Secreta", kind="activist", areas=("MX-JAL",),
                           topics=("protest",), low_profile=True),
        "G": await add_org(emu, bot, "Gone", groups=0, areas=("MX-JAL",), topics=("tax",),
                           reachable=False),
    }
    async with bot.db.transaction() as session:
        # B's groups: one in English, one in both languages
        await session.execute(update(Chat).where(Chat.id == orgs["B"].groups[0].id)
                              .values(language="en"))
        await session.execute(update(Chat).where(Chat.id == orgs["B"].groups[1].id)
                              .values(language="both"))
        await session.execute(update(Organisation).where(Organisation.id == orgs["E"].id)
                              .values(status="suspended"))
        # F's only group removed the bot: F is reached in its contact's private chat
        await session.execute(update(Chat).where(Chat.id == orgs["F"].groups[0].id)
                              .values(active=False))
    return orgs


def chats_of(orgs: dict[str, Org], names: str) -> set[int]:
    found: set[int] = set()
    for name in names:
        org = orgs[name]
        if name == "F" or not org.groups:
            found.add(org.contact.id)
        else:
            found |= set(org.chat_ids)
    return found


TABLE: list[tuple[dict[str, Any], str]] = [
    ({}, "ABCDFL"),
    ({"regions": ["MX-JAL"]}, "ACFL"),
    ({"regions": ["MX"], "topics": ["tax"]}, "ACF"),
    ({"audience": "allies"}, "B"),
    ({"audience": "kinds", "kinds": ["academic", "activist"]}, "CL"),
    ({"regions": ["GT"], "topics": ["surveillance"]}, "D"),
    ({"regions": ["MX-OAX"], "audience": "members"}, "C"),
    ({"topics": ["foreign-funding"]}, ""),
]


async def test_targeting_table(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    orgs = await world(emu, bot)
    async with bot.db.transaction() as session:
        for values, expected in TABLE:
            alert = Alert(title="t", body_es="x", severity="info", topics=[], regions=[],
                          audience="all", kinds=[], asks=[], status="draft")
            for name, value in values.items():
                setattr(alert, name, value)
            found = await alerts.reach(session, alert, "es")
            assert {t.chat_id for t in found.targets} == chats_of(orgs, expected), values
            assert len(found.targets) == len({t.chat_id for t in found.targets})  # once each
            assert found.orgs == len(expected)
    # Send (the service the composer's Send calls) delivers each row to exactly those chats.
    every_chat = {c for org in orgs.values()
                  for c in (*org.chat_ids, emu.private_chat(org.contact).id)}
    for row, (values, expected) in enumerate(TABLE):
        marker = f"Fila {row} del cuadro."
        async with bot.db.transaction() as session:
            draft = await alerts.new_draft(session, coord.id, bot.clock.now(), title="t",
                                           body_es=marker)
            for name, value in values.items():
                setattr(draft, name, value)
            predicted = {t.chat_id for t in (await alerts.reach(session, draft, "es")).targets}
            sent = await alerts.send(session, draft.id, coord.id, bot.clock.now(),
                                     alert_copy(bot.settings.timezone), "es")
        assert sent is not None and predicted == chats_of(orgs, expected), values
        bot.sender.wake()
        await finished(bot, sent.fanout_id)
        rows = await outbox_chats(bot, sent.fanout_id)
        assert rows == dict.fromkeys(predicted, "sent"), values
        got = {c for c in every_chat if alert_copies(emu, c, marker)}
        assert got == predicted, values
        assert all(len(alert_copies(emu, c, marker)) == 1 for c in got), values


@pytest.mark.parametrize("coord_lang", ["en", "es"])
async def test_preview_counts_equal_what_is_delivered(emu: Emulator, make_bot,
                                                      coord_lang: str) -> None:
    coord = emu.add_user("Coord", language_code=coord_lang)
    bot = await make_bot(coordinator_ids=(coord.id,))
    orgs = await world(emu, bot)
    if coord_lang == "en":
        preview, summary = await compose(emu, coord, title="Reforma <fiscal> & AML",
                                         es=["Texto en español."], en=["English text."],
                                         severity="Warning", regions=("Jalisco",))
        assert "It will reach 4 organisations in 4 chats." in summary.text
        assert "Chats by language: Spanish: 3, English: 1" in summary.text
        assert "1 of them have no group" not in summary.text
        assert "2 of them have no group" in summary.text
        assert preview.text.startswith("⚠️ Alert: Warning\nReforma <fiscal> & AML")
        assert "English text." in preview.text and "Texto" not in preview.text
        assert "&lt;fiscal&gt; &amp; AML" in preview.html
    else:
        from tests.alert_helpers import ES
        preview, summary = await compose(emu, coord, title="Reforma fiscal",
                                         es=["Texto en español."], en=["English text."],
                                         severity="Advertencia", regions=("Jalisco",),
                                         audience="Todas las organizaciones", words=ES)
        assert "Llegará a 4 organizaciones en 4 chats." in summary.text
        assert preview.text.startswith("⚠️ Alerta: Advertencia")
    alert = await send(emu, bot, coord, summary, "Send" if coord_lang == "en" else "Enviar")
    delivered = await outbox_chats(bot, alert.fanout_id)
    assert set(delivered) == chats_of(orgs, "ACFL")
    assert set(delivered.values()) == {"sent"}
    for chat_id in delivered:
        copies = alert_copies(emu, chat_id, "Texto en español." if chat_id != orgs["C"].contact.id
                              else "English text.")
        assert len(copies) == 1, chat_id
    gamma = alert_copies(emu, orgs["C"].contact.id, "English text.")[0]
    assert gamma.text.startswith("⚠️ Alert: Warning")
    assert [b.text for row in gamma.buttons for b in row] == ["✅ Received"]
    # orgs not reached got nothing
    for name in "BDEG":
        for chat in [*orgs[name].groups, emu.private_chat(orgs[name].contact)]:
            assert alert_copies(emu, chat, "Reforma") == []
    # the low-profile org's copy is protected
    lam = alert_copies(emu, orgs["L"].groups[0], "Texto en español.")[0]
    assert lam.protect_content


async def test_both_and_english_chats_read_their_language(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    orgs = await world(emu, bot)
    _, summary = await compose(emu, coord, title="Allies", es=["Solo español."],
                               en=["Only English."], audience="Allies only",
                               asks=("Received", "This affects us"))
    assert "Chats by language: English: 1, both languages: 1" in summary.text
    await send(emu, bot, coord, summary)
    english, both = orgs["B"].groups
    [en_copy] = alert_copies(emu, english, "Only English.")
    assert "Solo español." not in en_copy.text
    assert [b.text for row in en_copy.buttons for b in row] == ["✅ Received",
                                                                 "⚠️ This affects us"]
    [both_copy] = alert_copies(emu, both, "Only English.")
    assert both_copy.text.index("Solo español.") < both_copy.text.index("Only English.")
    assert both_copy.text.startswith("ℹ️ Alerta: Información")
    assert [b.text for row in both_copy.buttons for b in row] == [
        "✅ Recibido / ✅ Received", "⚠️ Nos afecta / ⚠️ This affects us"]


async def test_an_english_chat_gets_the_spanish_text_when_there_is_no_english(
        emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    orgs = await world(emu, bot)
    _, summary = await compose(emu, coord, title="Solo ES", es=["Sólo hay español."],
                               audience="Allies only")
    await send(emu, bot, coord, summary)
    english, both = orgs["B"].groups
    [copy] = alert_copies(emu, english, "Sólo hay español.")
    assert copy.text.startswith("ℹ️ Alert: Information")
    [copy] = alert_copies(emu, both, "Sólo hay español.")
    assert copy.text.count("Sólo hay español.") == 1


async def test_audience_by_kinds_through_the_composer(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    orgs = await world(emu, bot)
    _, summary = await compose(emu, coord, title="Kinds", es=["Por tipo."],
                               audience="Some kinds of organisation",
                               kinds=("Academic institution", "Activist collective"))
    assert "Audience: Some kinds of organisation: Academic institution, Activist collective" \
        in summary.text
    alert = await send(emu, bot, coord, summary)
    assert set(await outbox_chats(bot, alert.fanout_id)) == chats_of(orgs, "CL")

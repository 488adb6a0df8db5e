"""Rule R for alerts: /alert, /alerts and every coordinator button under them, tried by a member
(Spanish), a stranger (English), a group admin in a group and an anonymous admin, are refused
with a translated reply and the database is left exactly as it was. Coordinator-only commands
are not in members' menus."""

from __future__ import annotations

from bot.commands import COORDINATOR_COMMANDS, MEMBER_COMMANDS, commands_for
from bot.emulator import Emulator
from tests.alert_helpers import add_org, alert_copies, compose, send, text_after
from tests.org_helpers import ask, snapshot, started

ONLY = {"es": "Solo las coordinadoras pueden hacer esto.", "en": "Only coordinators can do this."}


def test_menus() -> None:
    members = {name for name, _ in MEMBER_COMMANDS}
    coordinators = {name for name, _ in COORDINATOR_COMMANDS}
    assert {"alert", "alerts"} <= coordinators and not {"alert", "alerts"} & members
    assert "report" in members
    assert "report" not in {name for name, _ in commands_for("stranger")}


async def test_non_coordinators_are_refused_and_nothing_changes(emu: Emulator,
                                                                make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord)
    org = await add_org(emu, bot, "Alfa")
    ana = org.contact  # a member (Spanish)
    sam = emu.add_user("Sam", language_code="en")
    gil = emu.add_user("Gil", language_code="en")
    grp = emu.add_group("Neutral", members=[gil, ana], admins=[gil])
    emu.add_bot(grp, by=gil)
    await started(emu, ana, sam, gil)
    await ask(emu, gil, "/language en", chat=grp)
    # one sent alert (for /alerts buttons) and one draft at its preview (for composer buttons)
    _, summary = await compose(emu, coord, title="Sent", es=["Enviado."])
    alert = await send(emu, bot, coord, summary)
    chat = emu.private_chat(coord)
    sent = emu.send(coord, "/alerts")
    listing = await text_after(emu, chat, "Recent alerts", sent.message_id)
    emu.press(coord, listing, label="Status 1")
    status = await text_after(emu, chat, "Answered: 0 of 1", listing.message_id)
    _, draft = await compose(emu, coord, title="Draft", es=["Borrador."])

    before = await snapshot(bot)
    for command in ("/alert", "/alerts"):
        assert (await ask(emu, ana, command)).text == ONLY["es"]
        assert (await ask(emu, sam, command)).text == ONLY["en"]
        assert (await ask(emu, gil, command, chat=grp)).text == ONLY["en"]
        anonymous = await ask(emu, gil, command, chat=grp, anonymous=True)
        assert "anonymous group admin" in anonymous.text
    buttons = [(draft, "Send"), (draft, "Edit"), (draft, "Cancel"),
               (status, "Remind those who have not answered"), (status, "Refresh"),
               (status, "Correct"), (status, "Withdraw"), (listing, "Status 1")]
    for message, label in buttons:
        data = message.button(label).callback_data
        for user, where, lang in ((ana, emu.private_chat(ana), "es"),
                                  (sam, emu.private_chat(sam), "en"), (gil, grp, "en")):
            q = emu.forge_callback(user, where, message.message_id, data)
            await emu.wait_for(lambda q=q: q.answered)
            assert q.answer_text == ONLY[lang], (label, lang)
    # composer steps pressed by others: refused too
    for data in ("v1:gc:alert:severity:urgent", "v1:gt:alert:topics:tax", "v1:gd:alert:topics",
                 f"v1:als:{alert.id}", f"v1:alap:{alert.id}", f"v1:alrj:{alert.id}",
                 f"v1:alfc:{alert.id}", "v1:gx:alert_fix:0", "v1:gd:alert_fix:body_es",
                 f"v1:assv:{alert.id}"):
        q = emu.forge_callback(sam, emu.private_chat(sam), 1, data)
        await emu.wait_for(lambda q=q: q.answered)
        assert q.answer_text == ONLY["en"]
    after = await snapshot(bot)
    ignore = {"people", "chats", "sent_messages"}  # the refusals themselves
    assert {k: v for k, v in after.items() if k not in ignore} == \
        {k: v for k, v in before.items() if k not in ignore}
    assert alert_copies(emu, org.groups[0], "Borrador.") == []
    assert len(alert_copies(emu, org.groups[0], "Enviado.")) == 1


async def test_the_coordinator_in_a_group_is_sent_to_private(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    grp = emu.add_group("Team", members=[coord], admins=[coord])
    emu.add_bot(grp, by=coord)
    await ask(emu, coord, "/language en", chat=grp)
    before = await snapshot(bot)
    told = await ask(emu, coord, "/alert", chat=grp)
    assert told.text == "Please compose alerts in your private chat with me."
    assert told.buttons[0][0].url == "https://t.me/coalition_test_bot"
    told = await ask(emu, coord, "/alerts", chat=grp)
    assert "only in your private chat" in told.text
    assert (await snapshot(bot))["alerts"] == before["alerts"]

"""Rule R and rule A for solidarity: a stranger, a suspended organisation's contact and an
anonymous admin cannot ask; only coordinators see /requests; forged offers, acceptances and
closings by anyone but the right organisation change nothing."""

from __future__ import annotations

import pytest

from bot.emulator import Emulator
from tests.alert_helpers import add_org
from tests.org_helpers import ask, snapshot, started
from tests.solidarity_helpers import (
    EN,
    answered,
    ask_for_help,
    bot_text,
    capable_org,
    copy_in,
    last_request,
    offers,
    outbox_settled,
    sent_to,
    set_status,
)

ONLY_CONTACTS = {"es": "Solo los contactos de una organización miembro activa pueden hacer esto.",
                 "en": "Only the contacts of an active member organisation can do this."}
ONLY_COORD = {"es": "Solo las coordinadoras pueden hacer esto.",
              "en": "Only coordinators can do this."}


async def state(bot) -> dict:
    """Every table but the replies kept for deletion in an organisation's chats (member
    safety's bookkeeping of any reply)."""
    rows = await snapshot(bot)
    rows.pop("sent_messages", None)
    return rows


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_who_may_ask_and_see_requests(emu: Emulator, make_bot, lang: str) -> None:
    coord = emu.add_user("Coord", language_code=lang)
    bot = await make_bot(coordinator_ids=(coord.id,))
    stranger = emu.add_user("Sam", language_code=lang)
    member = await add_org(emu, bot, "Alfa", contact_language=lang)
    gone = await add_org(emu, bot, "Suspendida", contact_language=lang)
    await set_status(bot, gone.id, "suspended")
    group = member.groups[0]
    await started(emu, coord, stranger, member.contact, gone.contact)
    before = await state(bot)
    for user in (stranger, gone.contact):
        answer = await ask(emu, user, "/ask")
        assert answer.text == ONLY_CONTACTS[lang] and not answer.buttons
    answer = await ask(emu, member.contact, "/ask", chat=group)
    assert "/ask" in answer.text and not answer.buttons
    answer = await ask(emu, member.contact, "/ask", chat=group, anonymous=True)
    assert "anonymous" in answer.text or "anónimo" in answer.text
    for user, chat in ((member.contact, None), (stranger, None), (member.contact, group)):
        answer = await ask(emu, user, "/requests", chat=chat)
        # the group speaks the default language (Spanish)
        assert answer.text == ONLY_COORD["es" if chat else lang] and not answer.buttons
    answer = await ask(emu, member.contact, "/requests", chat=group, anonymous=True)
    assert "anonymous" in answer.text or "anónimo" in answer.text
    assert await state(bot) == before
    answer = await ask(emu, coord, "/requests")
    assert answer.text in ("No request for help yet.", "Aún no hay solicitudes de ayuda.")


async def test_forged_presses_change_nothing(emu: Emulator, make_bot) -> None:
    bot = await make_bot()
    ds = ("digital-security",)
    asker = await capable_org(emu, bot, "Semilla", ds, contact_language="en")
    helper = await capable_org(emu, bot, "Cerca", ds, groups=0, contact_language="en")
    other = await capable_org(emu, bot, "Otra", ("legal",), groups=0, contact_language="en")
    late = await capable_org(emu, bot, "Tarde", ds, groups=0, contact_language="en")
    stranger = emu.add_user("Sam", language_code="en")
    await started(emu, stranger)
    confirm = await ask_for_help(emu, asker.contact, capacity="digital-security",
                                 urgency="routine", text="Help with a server.",
                                 visibility="named")
    request = await last_request(bot)
    await sent_to(bot, request)
    helper_chat = emu.private_chat(helper.contact)
    marker = "#" + str(request.id)
    await answered(emu, emu.press(helper.contact, copy_in(emu, helper_chat, marker),
                                  label=EN["help"]))
    notice = await bot_text(emu, emu.private_chat(asker.contact), "Cerca can help")
    # the organisation that asked cannot offer to itself; the suspended one cannot offer
    await set_status(bot, late.id, "suspended")
    await started(emu, other.contact, late.contact)
    await outbox_settled(bot)
    before = await state(bot)
    forged = [
        (stranger, f"v1:ho:{request.id}:help"),            # a stranger
        (other.contact, f"v1:ho:{request.id}:help"),       # not reached (another capacity)
        (asker.contact, f"v1:ho:{request.id}:help"),       # the asker itself
        (late.contact, f"v1:ho:{request.id}:help"),        # reached, then suspended
        (helper.contact, f"v1:hy:{request.id}:{helper.id}:0"),  # only the asker accepts
        (stranger, f"v1:hy:{request.id}:{helper.id}:0"),
        (other.contact, f"v1:hx:{request.id}:helped"),     # only the asker closes
        (helper.contact, f"v1:hx:{request.id}:helped"),
        (stranger, "v1:hx:999:helped"),
        (asker.contact, f"v1:hy:{request.id}:{other.id}:0"),  # no such offer
        (asker.contact, f"v1:ho:{request.id}:bogus"),
        (stranger, "v1:hc:legal"),                         # the /ask flow's buttons
        (late.contact, "v1:hu:urgent"),
        (asker.contact, "v1:hv:anon"),                     # no /ask open: stale
        (stranger, "v1:hal:1"),
    ]
    for user, data in forged:
        emu.forge_callback(user, emu.private_chat(user), 1, data=data)
    await emu.wait_for(lambda: not emu.unanswered_callbacks(), what="every forged press")
    assert await state(bot) == before
    # the real acceptance works; a second one is a no-op; closing ends offers for good
    emu.press(asker.contact, notice, label=EN["accept"])
    await bot_text(emu, helper_chat, "accepted your offer")
    assert await offers(bot, request.id) == {helper.id: ("can_help", "accepted")}
    emu.press(asker.contact, confirm, label=EN["not_needed"])
    await bot_text(emu, helper_chat, "was closed by")
    q = emu.press(helper.contact, copy_in(emu, helper_chat, "Request for help"),
                  label=EN["no"])
    await answered(emu, q)
    assert await offers(bot, request.id) == {helper.id: ("can_help", "ended")}
    q = await answered(emu, emu.press(asker.contact, confirm, label=EN["helped"]))
    assert q.answer_text == "This request is already closed."


async def test_an_offer_from_someone_the_bot_cannot_write_to_says_how(emu: Emulator,
                                                                       make_bot) -> None:
    bot = await make_bot()
    ds = ("digital-security",)
    asker = await capable_org(emu, bot, "Semilla", ds, contact_language="en")
    helper = await capable_org(emu, bot, "Cerca", ds, group_language="en", reachable=False)
    await ask_for_help(emu, asker.contact, capacity="digital-security", urgency="routine",
                       text="Help with a server.", visibility="named")
    request = await last_request(bot)
    await sent_to(bot, request)
    copy = copy_in(emu, helper.groups[0], f"#{request.id}")
    q = await answered(emu, emu.press(helper.contact, copy, label=EN["help"]))
    assert "/start" in q.answer_text and q.show_alert
    assert await offers(bot, request.id) == {helper.id: ("can_help", "answered")}

"""Solidarity responses through the emulator, from asking to closing, in both languages: the
request reaches exactly the organisations that offer the capacity (closest first, never the
asker, never a suspended one); offers follow rule A; nothing is relayed or introduced before
both agree; relaying copies each message across and stops when the request closes; an
anonymous request never reveals the asker in any chat the others read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import HelpRelay
from bot.emulator import Emulator
from tests.alert_helpers import Org, ask
from tests.solidarity_helpers import (
    EN,
    ES,
    answered,
    ask_for_help,
    bot_text,
    capable_org,
    copy_in,
    last_request,
    offers,
    sent_to,
    set_status,
    texts,
)

MARK = "Request for help #"
MARK_ES = "Solicitud de ayuda #"


@dataclass
class World:
    bot: Any
    coord: Any
    asker: Org
    near: Org      # same state as the asker (a group)
    peer: Org      # another state, same scope (no group: its contact in private)
    far: Org       # national, another scope (a group)
    other: Org     # offers another capacity
    suspended: Org


async def world(emu: Emulator, make_bot, lang: str) -> World:
    coord = emu.add_user("Coord", language_code=lang)
    bot = await make_bot(coordinator_ids=(coord.id,))
    emu.private_chat(coord).started = True
    async with bot.db.transaction() as session:
        from bot.db.models import Person
        now = bot.clock.now()
        session.add(Person(id=coord.id, language_code=lang, reachable=True, started_at=now,
                           updated_at=now))
    ds = ("digital-security",)
    asker = await capable_org(emu, bot, "Semilla", ("legal", "digital-security"), groups=1,
                              contact_language=lang, language=lang, areas=("MX-JAL",))
    near = await capable_org(emu, bot, "Cerca", ds, groups=1, scope="local",
                             areas=("MX-JAL",), group_language=lang, contact_language=lang)
    peer = await capable_org(emu, bot, "Par", ds, groups=0, contact_language=lang,
                             areas=("MX-OAX",))
    far = await capable_org(emu, bot, "Lejos", ds, groups=1, scope="national", areas=("MX",),
                            group_language=lang)
    other = await capable_org(emu, bot, "Otra", ("legal",), groups=1, areas=("MX-JAL",))
    suspended = await capable_org(emu, bot, "Suspendida", ds, groups=1, areas=("MX-JAL",))
    await set_status(bot, suspended.id, "suspended")
    return World(bot, coord, asker, near, peer, far, other, suspended)


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_from_asking_to_closing(emu: Emulator, make_bot, lang: str) -> None:
    words, mark = (EN, MARK) if lang == "en" else (ES, MARK_ES)
    w = await world(emu, make_bot, lang)
    asker_chat = emu.private_chat(w.asker.contact)
    confirm = await ask_for_help(emu, w.asker.contact, capacity="digital-security",
                                 urgency="soon", text="Our phones were hacked; we need help.",
                                 visibility="named", words=words)
    request = await last_request(w.bot)
    assert f"#{request.id}" in confirm.text
    assert [b.text for row in confirm.buttons for b in row] == [
        words["helped"], words["not_needed"], words["no_help"]]

    # exactly the organisations that offer the capacity, closest first, never the asker
    order = await sent_to(w.bot, request)
    assert order == [w.near.groups[0].id, w.peer.contact.id, w.far.groups[0].id]
    for org in (w.asker, w.other, w.suspended):
        for chat in [*org.groups, emu.private_chat(org.contact)]:
            assert not [t for t in texts(emu, chat) if mark in t], org.name
    in_near = copy_in(emu, w.near.groups[0], mark)
    assert "Semilla" in in_near.text and "Our phones were hacked" in in_near.text
    assert [b.text for row in in_near.buttons for b in row] == [
        words["help"], words["intro"], words["no"]]

    # rule A: a member who is not a contact cannot offer; "not now" counts for the org
    q = await answered(emu, emu.press(w.near.member, in_near, label=words["help"]))
    assert q.show_alert
    assert await offers(w.bot, request.id) == {}
    in_far = copy_in(emu, w.far.groups[0], mark)
    await answered(emu, emu.press(w.far.member, in_far, label=words["no"]))
    assert await offers(w.bot, request.id) == {w.far.id: ("not_now", "answered")}
    # a suspended organisation's contact, pressing where the copy never went: a stranger
    emu.forge_callback(w.suspended.contact, emu.private_chat(w.suspended.contact), 1,
                       data=f"v1:ho:{request.id}:help")
    await emu.wait_for(lambda: not emu.unanswered_callbacks(), what="the forged press")
    assert w.suspended.id not in await offers(w.bot, request.id)

    # the offer reaches the asker; nothing is relayed before they accept
    before = len(emu.transcript(asker_chat))
    await answered(emu, emu.press(w.near.contact, in_near, label=words["help"]))
    notice = await bot_text(emu, asker_chat, "Cerca")
    assert [b.text for row in notice.buttons for b in row] == [words["accept"]]
    assert len(emu.transcript(asker_chat)) > before
    near_private = emu.private_chat(w.near.contact)
    await ask(emu, w.asker.contact, "Hola, ¿siguen ahí?")
    assert not any("siguen ahí" in t for t in texts(emu, near_private))

    # accepted: both are told, and messages are copied across both ways
    emu.press(w.asker.contact, notice, label=words["accept"])
    touch = await bot_text(emu, near_private, f"#{request.id}")
    assert "Semilla" in touch.text
    await bot_text(emu, asker_chat, "accepted the offer of Cerca" if lang == "en"
                   else "Aceptó la oferta de Cerca")
    sent = emu.send(w.asker.contact, "Thank you, can we talk tomorrow?")
    relayed = await bot_text(emu, near_private, "can we talk tomorrow")
    assert relayed.text.splitlines()[0].endswith("Semilla:")
    emu.send(w.near.contact, "Yes, at 10.", reply_to=relayed)
    back = await bot_text(emu, asker_chat, "Yes, at 10.")
    assert "Cerca" in back.text.splitlines()[0]
    async with w.bot.db.sessions() as session:
        rows = (await session.execute(select(HelpRelay))).scalars().all()
    assert {(r.from_chat_id, r.to_chat_id) for r in rows} == {
        (asker_chat.id, near_private.id), (near_private.id, asker_chat.id)}
    assert sent.message_id in {r.from_message_id for r in rows}

    # closed with one tap: the helper is told, and nothing is relayed any more
    emu.press(w.asker.contact, confirm, label=words["helped"])
    await bot_text(emu, near_private, "was closed by" if lang == "en" else "cerró la solicitud")
    count = len(emu.transcript(near_private))
    await ask(emu, w.asker.contact, "One more thing after closing")
    emu.send(w.near.contact, "And from me after closing")
    await emu.wait_for_bot_message(near_private)
    assert not any("after closing" in t for t in texts(emu, near_private))
    assert not any("after closing" in t for t in texts(emu, asker_chat))
    assert len(emu.transcript(near_private)) >= count

    # coordinators: the list and the measures
    listing = await ask(emu, w.coord, "/requests")
    assert f"#{request.id}" in listing.text and "Semilla" in listing.text
    measures = await emu.wait_for_bot_message(emu.private_chat(w.coord), after=listing)
    assert ("100 %" in measures.text) and ("1 " in measures.text)
    assert emu.unanswered_callbacks() == []

"""An anonymous request never reveals the asker: no name, username or Telegram id in any message
any other chat receives (every transcript is read), through offers, acceptance and relaying; a
low-profile organisation asks anonymously unless it chooses otherwise. Introductions happen only
when both sides chose one, and reveal only then."""

from __future__ import annotations

from typing import Any

import pytest

from bot.db.models import Alert, AlertTarget
from bot.emulator import Emulator
from tests.alert_helpers import ask, everything_read, press
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
    texts,
)


def read_by_others(emu: Emulator, *mine: Any) -> str:
    """Everything every chat but `mine` received: texts, captions, buttons and raw HTML."""
    skip = {emu.chat(c).id for c in mine}
    chats = [c for c in emu.world.transcripts if c not in skip]
    raw = [m.html or "" for c in chats for m in emu.transcript(c)]
    return everything_read(emu, chats) + "\n".join(raw)


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_anonymous_request_never_reveals_the_asker(emu: Emulator, make_bot,
                                                         lang: str) -> None:
    words = EN if lang == "en" else ES
    bot = await make_bot()
    ds = ("digital-security",)
    secret = await capable_org(emu, bot, "Lambda Secreta", ds, low_profile=True,
                               alias="Aliada Norte", contact_language=lang, language=lang)
    secret.contact.username = "lambda_ana"
    near = await capable_org(emu, bot, "Cerca", ds, contact_language=lang, group_language=lang)
    # a low-profile helper without an alias: never named to the asker either
    peer = await capable_org(emu, bot, "Zafiro Discreto", ds, groups=0, low_profile=True,
                             contact_language=lang)
    asker_chat = emu.private_chat(secret.contact)

    # a low-profile organisation is offered to ask without its name, recommended
    m = await ask(emu, secret.contact, "/ask")
    m = await press(emu, secret.contact, m, words["digital-security"])
    m = await press(emu, secret.contact, m, words["urgent"])
    m = await ask(emu, secret.contact, "Our office was raided; we need secure phones.")
    labels = [b.text for row in m.buttons for b in row]
    recommended = {"en": " (recommended)", "es": " (recomendado)"}[lang]
    assert labels[0] == words["anon"] + recommended
    emu.press(secret.contact, m, label=words["anon"] + recommended)
    request = await last_request(bot)
    assert request.anonymous
    assert sorted(await sent_to(bot, request)) == sorted([near.groups[0].id, peer.contact.id])

    # offers: one that would like an introduction, one through the bot
    marker = "#" + str(request.id)
    in_near = copy_in(emu, near.groups[0], marker)
    await answered(emu, emu.press(near.contact, in_near, label=words["intro"]))
    in_peer = copy_in(emu, emu.private_chat(peer.contact), marker)
    await answered(emu, emu.press(peer.contact, in_peer, label=words["help"]))
    assert await offers(bot, request.id) == {near.id: ("can_help", "answered"),
                                             peer.id: ("can_help", "answered")}
    notice_near = await bot_text(emu, asker_chat, "Cerca")
    low = {"en": "an organisation that keeps a low profile",
           "es": "una organización de perfil bajo"}[lang]
    notice_peer = await bot_text(emu, asker_chat, low + {"en": " can help",
                                                         "es": " puede ayudar"}[lang])

    # the asker accepts both, through the bot: messages go both ways, names hidden
    emu.press(secret.contact, notice_near, label=words["accept"])
    emu.press(secret.contact, notice_peer, label=words["accept"])
    near_private = emu.private_chat(near.contact)
    accepted = {"en": "accepted your offer", "es": "aceptó su oferta"}[lang]
    await bot_text(emu, near_private, accepted)
    await bot_text(emu, emu.private_chat(peer.contact), accepted)
    await bot_text(emu, asker_chat, "Cerca" + {"en": " for request", "es": " para la"}[lang])
    await bot_text(emu, asker_chat, low + {"en": " for request", "es": " para la"}[lang])
    emu.send(peer.contact, "Hello, we have phones.")
    from_peer = await bot_text(emu, asker_chat, "we have phones")
    assert low in from_peer.text.splitlines()[0]
    emu.send(near.contact, "Hello from Cerca.")
    await bot_text(emu, asker_chat, "Hello from Cerca")
    # in two conversations, a message that replies to none is not sent anywhere
    await ask(emu, secret.contact, "To whom does this go?")
    assert not any("To whom" in t for c in (near_private, emu.private_chat(peer.contact))
                   for t in texts(emu, c))
    emu.send(secret.contact, "Thank you, call me at noon.", reply_to=from_peer)
    relayed = await bot_text(emu, emu.private_chat(peer.contact), "call me at noon")
    assert not any("call me at noon" in t for t in texts(emu, near_private))
    header = relayed.text.splitlines()[0]
    assert ("without its name" in header) or ("sin su nombre" in header)

    seen = read_by_others(emu, asker_chat)
    for leak in ("Lambda", "Aliada", "lambda_ana", str(secret.contact.id),
                 secret.contact.first_name):
        assert leak not in seen, leak
    seen = read_by_others(emu, emu.private_chat(peer.contact))
    for leak in ("Zafiro", peer.contact.first_name, str(peer.contact.id)):
        assert leak not in seen, leak
    assert emu.unanswered_callbacks() == []


async def test_introduction_only_when_both_agree(emu: Emulator, make_bot) -> None:
    bot = await make_bot()
    ds = ("digital-security",)
    asker = await capable_org(emu, bot, "Semilla", ds, contact_language="en")
    asker.contact.username = "semilla_ana"
    peer = await capable_org(emu, bot, "Par", ds, groups=0, contact_language="en")
    peer.contact.username = "par_pedro"
    near = await capable_org(emu, bot, "Cerca", ds, groups=0, contact_language="en")
    near.contact.username = "cerca_carla"
    now = bot.clock.now()
    async with bot.db.transaction() as session:  # a recent alert that reached the asker
        alert = Alert(title="Reforma fiscal", severity="info", topics=[], regions=[],
                      audience="all", kinds=[], asks=[], status="sent", strangers_erased=0,
                      created_at=now, sent_at=now, updated_at=now)
        session.add(alert)
        await session.flush()
        session.add(AlertTarget(alert_id=alert.id, chat_id=asker.groups[0].id, org_id=asker.id,
                                language="en"))
    await ask_for_help(emu, asker.contact, capacity="digital-security", urgency="routine",
                       text="We need a security audit.", visibility="named",
                       alert="Reforma fiscal")
    request = await last_request(bot)
    assert request.alert_id is not None
    await sent_to(bot, request)
    asker_chat = emu.private_chat(asker.contact)
    peer_chat, near_chat = emu.private_chat(peer.contact), emu.private_chat(near.contact)
    marker = "#" + str(request.id)
    assert "About the alert: Reforma fiscal" in copy_in(emu, peer_chat, marker).text

    await answered(emu, emu.press(peer.contact, copy_in(emu, peer_chat, marker),
                                  label=EN["intro"]))
    await answered(emu, emu.press(near.contact, copy_in(emu, near_chat, marker),
                                  label=EN["help"]))
    to_peer = await bot_text(emu, asker_chat, "Par can help")
    to_near = await bot_text(emu, asker_chat, "Cerca can help")
    assert [b.text for row in to_peer.buttons for b in row] == [EN["accept"],
                                                                 EN["accept_intro"]]
    assert [b.text for row in to_near.buttons for b in row] == [EN["accept"]]
    # before anyone accepts, no username crossed
    assert "semilla_ana" not in read_by_others(emu, asker_chat)
    assert "par_pedro" not in everything_read(emu, [asker_chat])

    # both chose an introduction: each gets the other's name and username
    emu.press(asker.contact, to_peer, label=EN["accept_intro"])
    intro = await bot_text(emu, peer_chat, "@semilla_ana")
    assert "Semilla" in intro.text
    back = await bot_text(emu, asker_chat, "@par_pedro")
    assert "Par" in back.text
    # an introduction is not a relay: the next message is not copied
    await ask(emu, asker.contact, "Is anyone there?")
    assert not any("anyone there" in t for t in texts(emu, peer_chat))

    # Cerca did not choose an introduction: a forged "introduce us" only relays
    emu.forge_callback(asker.contact, asker_chat, to_near.message_id,
                       data=f"v1:hy:{request.id}:{near.id}:1")
    await bot_text(emu, near_chat, "accepted your offer")
    assert "semilla_ana" not in everything_read(emu, [near_chat])
    assert "cerca_carla" not in everything_read(emu, [asker_chat])
    assert emu.unanswered_callbacks() == []

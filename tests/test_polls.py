"""Polls through the emulator (issue 9): composing, fan-out, votes per rule A, the close."""

from __future__ import annotations

from bot.emulator import Emulator
from bot.services.polls import polls
from bot.services.safety import erasure
from tests.org_helpers import ask
from tests.poll_helpers import (
    closed_result,
    coalition,
    compose,
    copies,
    last_poll,
    poll_message,
    texts,
    traced,
    voted,
    votes,
)


async def test_an_org_counts_once_with_its_latest_vote(emu: Emulator, make_bot) -> None:
    c = await coalition(emu, make_bot, coord_lang="en")
    done = await compose(emu, c.coord, "Which law first?", ["OSC law", "Tax reform", "AML"])
    assert "sent to 6 chats of 5 organisations" in done.text
    poll = await last_poll(c.bot)
    await traced(c.bot, poll.id)
    p, g = c.people, c.groups
    # Red Jalisco: three contacts and two others, in two chats; the latest current vote wins.
    emu.vote(p["dani"], poll_message(emu, g["g1"]), [0])   # Sur's contact in Red's group
    emu.vote(p["xavi"], poll_message(emu, g["g1"]), [1])
    emu.vote(p["ana"], poll_message(emu, g["g1"]), [0])
    emu.vote(p["beto"], poll_message(emu, g["g2"]), [1])
    emu.vote(p["caro"], poll_message(emu, g["g2"]), [2])
    emu.vote(p["caro"], poll_message(emu, g["g2"]), [])    # retracted: beto's vote stands
    # Colectivo Sur lets only its contacts answer: xavi is a stranger there.
    emu.vote(p["dani"], poll_message(emu, g["g3"]), [2])
    emu.vote(p["xavi"], poll_message(emu, g["g3"]), [0])
    # An ally, in private: shown apart, not in the headline.
    emu.vote(p["ali"], poll_message(emu, emu.private_chat(p["ali"])), [0])
    rows = await voted(c.bot, 8)
    in_red_group = next(v for v in rows if v.user_id == p["dani"].id and v.choices == [0])
    assert (in_red_group.standing, in_red_group.org_id) == ("org", c.orgs["red"])
    emu.clock.advance(2 * 86400 + 60)
    result = await closed_result(c.bot, poll.id)
    assert result["headline"] == [0, 1, 1]
    assert result["members"] == [0, 1, 1] and result["allies"] == [1, 0, 0]
    assert result["strangers"] == 1 and result["unattributed"] == 0
    assert (result["voted_orgs"], result["reached_orgs"]) == (3, 5)
    coord_chat = emu.private_chat(c.coord)
    await emu.wait_for(lambda: "Poll results" in texts(emu, coord_chat) or None)
    for group in g.values():
        await emu.wait_for(lambda group=group: "Resultados de la encuesta" in texts(emu, group)
                           or None)
    assert "Participación: votaron 3 de 5 organizaciones." in texts(emu, g["g1"])
    # The stranger's vote (xavi in Colectivo Sur's group) is shown apart, in each results text.
    assert ("Sin contar: 1 voto de personas que no responden por una organización convocada; "
            "0 votos en copias que no se pudieron rastrear.") in texts(emu, g["g1"])
    assert ("Not counted: 1 vote from people who do not answer for a reached organisation; "
            "0 votes on copies that could not be traced.") in texts(emu, coord_chat)
    # Rule Q: the low-profile organisation is named in no member's chat.
    for chat in (g["g1"], g["g2"], g["g3"], emu.private_chat(p["ali"])):
        assert "Sombra" not in texts(emu, chat)


async def test_nudge_reaches_only_orgs_that_have_not_voted(emu: Emulator, make_bot) -> None:
    c = await coalition(emu, make_bot, coord_lang="en")
    await compose(emu, c.coord, "Which first?", ["Law", "Taxes"], closes="2d")
    poll = await last_poll(c.bot)
    await traced(c.bot, poll.id)
    g, p = c.groups, c.people
    emu.vote(p["beto"], poll_message(emu, g["g2"]), [0])    # Red voted (in its second chat)
    await voted(c.bot, 1)
    emu.clock.advance(86400 + 60)                             # a day before the close
    for chat in (g["g3"], g["g4"], emu.private_chat(p["nico"])):
        await emu.wait_for(lambda chat=chat: "aún no ha votado" in texts(emu, chat) or None)
    assert "aún no ha votado" not in texts(emu, g["g1"]) + texts(emu, g["g2"])
    emu.clock.advance(86400)
    await closed_result(c.bot, poll.id)
    reminders = [m for m in emu.bot_messages(g["g3"]) if "aún no ha votado" in (m.text or "")]
    assert len(reminders) == 1


async def test_erasure_hooks_keep_the_orgs_vote_and_drop_the_org(emu: Emulator, make_bot) -> None:
    c = await coalition(emu, make_bot, coord_lang="en")
    await compose(emu, c.coord, "Which first?", ["Law", "Taxes"])
    poll = await last_poll(c.bot)
    await traced(c.bot, poll.id)
    g, p = c.groups, c.people
    emu.vote(p["ana"], poll_message(emu, g["g1"]), [1])
    emu.vote(p["dani"], poll_message(emu, g["g3"]), [0])
    await voted(c.bot, 2)
    # Rule U: a replayed or older update changes nothing newer.
    ana_vote = next(v for v in await votes(c.bot) if v.user_id == p["ana"].id)
    async with c.bot.db.transaction() as session:
        await polls.record(session, ana_vote.ballot, p["ana"].id, [0], ana_vote.seq - 1,
                           c.bot.clock.now())
        await polls.record(session, ana_vote.ballot, p["ana"].id, [1], ana_vote.seq,
                           c.bot.clock.now())
    again = next(v for v in await votes(c.bot) if v.user_id == p["ana"].id)
    assert (again.id, again.choices, again.seq) == (ana_vote.id, [1], ana_vote.seq)
    now = c.bot.clock.now()
    async with c.bot.db.transaction() as session:
        await erasure.forget_person(session, p["ana"].id, now)
    rows = {v.org_id: v for v in await votes(c.bot)}
    # Ana is forgotten: her vote stays Red Jalisco's, with no person attached.
    assert rows[c.orgs["red"]].user_id is None and rows[c.orgs["red"]].choices == [1]
    async with c.bot.db.transaction() as session:
        await erasure.exit_org(session, c.orgs["sur"], now)
    rows = {v.org_id: v for v in await votes(c.bot)}
    assert c.orgs["sur"] not in rows
    assert g["g3"].id not in {x.chat_id for x in await copies(c.bot, poll.id)}


async def test_audience_filters_and_edit(emu: Emulator, make_bot) -> None:
    c = await coalition(emu, make_bot, coord_lang="en")
    # Edit at the preview goes through the questions again; nothing is sent.
    await ask(emu, c.coord, "/poll")
    await ask(emu, c.coord, "First question?")
    reply = await ask(emu, c.coord, "A\nB")
    for label in ("Single choice", "One vote per organisation", "No", "All organisations"):
        emu.press(c.coord, reply, label=label)
        reply = await emu.wait_for_bot_message(emu.private_chat(c.coord), after=reply)
    await ask(emu, c.coord, "kind=foundation")
    preview = await ask(emu, c.coord, "2d")
    assert "Only: Foundation" in preview.text
    assert "Organisations reached: 1. Chats: 1." in preview.text
    emu.press(c.coord, preview, label="Edit")
    again = await emu.wait_for_bot_message(emu.private_chat(c.coord), after=preview)
    assert again.text.startswith("Let's go through the poll again")
    assert "What is the poll's question?" in again.text
    await ask(emu, c.coord, "/cancel")
    # Only organisations working in Oaxaca: Fundación Norte and the ally, in private.
    done = await compose(emu, c.coord, "Oaxaca first?", ["Yes", "No"], filters="state=MX-OAX")
    assert "sent to 2 chats of 2 organisations" in done.text
    poll = await last_poll(c.bot)
    assert {x.chat_id for x in await copies(c.bot, poll.id)} == {
        c.people["nico"].id, c.people["ali"].id}
    assert poll.audience["regions"] == ["MX-OAX"]
    # the same audience typed by the state's name reaches the same chats
    done = await compose(emu, c.coord, "Oaxaca again?", ["Yes", "No"], filters="state=Oaxaca")
    assert "sent to 2 chats of 2 organisations" in done.text
    poll = await last_poll(c.bot)
    assert poll.audience["regions"] == ["MX-OAX"]


async def test_one_vote_per_person(emu: Emulator, make_bot) -> None:
    c = await coalition(emu, make_bot, coord_lang="en")
    await compose(emu, c.coord, "Which first?", ["Law", "Taxes"],
                  counting="One vote per person")
    poll = await last_poll(c.bot)
    await traced(c.bot, poll.id)
    g, p = c.groups, c.people
    emu.vote(p["ana"], poll_message(emu, g["g1"]), [0])
    emu.vote(p["beto"], poll_message(emu, g["g2"]), [1])
    emu.vote(p["beto"], poll_message(emu, g["g1"]), [1])   # one person in two chats: once
    emu.vote(p["xavi"], poll_message(emu, g["g1"]), [1])   # answers for Red in its group
    emu.vote(p["dani"], poll_message(emu, g["g3"]), [0])
    await voted(c.bot, 5)
    emu.clock.advance(2 * 86400 + 60)
    result = await closed_result(c.bot, poll.id)
    assert result["headline"] == [2, 2] and result["ballots"] == 4
    assert result["voted_orgs"] == 2

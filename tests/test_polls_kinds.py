"""Polls through the emulator (issue 9): an orphan copy, multiple choice, a ranked ballot end to
end, the close while the bot is down, and the chart."""

from __future__ import annotations

import io

from matplotlib import image

from bot.emulator import Emulator
from bot.i18n import Text
from bot.services.polls import results
from handlers.polls import render
from tests.helpers import eventually
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


async def test_orphan_copy_votes_counted_apart_and_multiple_choice(emu: Emulator,
                                                                   make_bot) -> None:
    c = await coalition(emu, make_bot, coord_lang="en", read_timeout=1.0)
    emu.faults.hold = 1.5
    g = c.groups
    lost = emu.faults.add("lost", methods={"sendPoll"}, chats=[g["g3"].id], count=1)
    await compose(emu, c.coord, "What should we work on?", ["Law", "Taxes", "Protest"],
                  kind="Multiple choice")
    poll = await last_poll(c.bot)
    await traced(c.bot, poll.id)
    assert lost.fired == 1
    polls_in_g3 = [m for m in emu.bot_messages(g["g3"]) if m.poll is not None]
    assert len(polls_in_g3) == 2  # the orphan, whose answer was lost, and the copy sent again
    orphan, kept = polls_in_g3
    traced_ids = {x.chat_id: x.tg_poll_id for x in await copies(c.bot, poll.id)}
    assert traced_ids[g["g3"].id] == kept.poll.id != orphan.poll.id
    assert all(x.poll.allows_multiple_answers and not x.poll.is_anonymous for x in polls_in_g3)
    p = c.people
    emu.vote(p["dani"], orphan, [0, 1])      # cannot be attributed: counted apart
    emu.vote(p["ana"], poll_message(emu, g["g1"]), [0, 2])
    emu.vote(p["caro"], poll_message(emu, g["g2"]), [1, 2])   # Red's latest
    emu.vote(p["lola"], poll_message(emu, g["g4"]), [2])
    await voted(c.bot, 4)
    unknown = [v for v in await votes(c.bot) if v.standing == "unknown"]
    assert len(unknown) == 1 and unknown[0].poll_id is None
    emu.clock.advance(2 * 86400 + 60)
    result = await closed_result(c.bot, poll.id)
    assert result["headline"] == [0, 1, 2]
    assert result["unattributed"] == 1 and result["strangers"] == 0
    await emu.wait_for(lambda: "Resultados de la encuesta" in texts(emu, g["g1"]) or None)
    assert "1 voto en copias que no se pudieron rastrear" in texts(emu, g["g1"])
    assert "Sombra" not in texts(emu, g["g1"]) + texts(emu, g["g3"])


async def test_ranked_ballot_end_to_end(emu: Emulator, make_bot) -> None:
    c = await coalition(emu, make_bot, coord_lang="en")
    await compose(emu, c.coord, "Rank our priorities", ["OSC law", "Tax reform", "AML"],
                  kind="Ranked (order the options)")
    poll = await last_poll(c.bot)
    g, p = c.groups, c.people
    announcement = await emu.wait_for(lambda: next(
        (m for m in emu.bot_messages(g["g1"]) if "Rank our priorities" in (m.text or "")), None))
    link = announcement.buttons[0][0].url
    assert link.startswith("https://t.me/coalition_test_bot?start=rk_")
    tokens = {x.chat_id: x.token for x in await copies(c.bot, poll.id)}

    async def rank(user, chat, labels: list[str]) -> str:
        ballot = await ask(emu, user, f"/start rk_{tokens[chat.id]}")
        for label in labels:
            emu.press(user, ballot, label=label)
            ballot = await emu.wait_for_bot_message(emu.private_chat(user), after=ballot)
        emu.press(user, ballot, label="Confirmar")
        done = await emu.wait_for_bot_message(emu.private_chat(user), after=ballot)
        return done.text

    assert "se registró tu orden" in await rank(p["beto"], g["g1"], ["Tax reform", "OSC law"])
    assert "se registró tu orden" in await rank(
        p["dani"], g["g3"], ["AML", "Tax reform", "OSC law"])
    # xavi is a stranger in Colectivo Sur's group (only its contacts answer for it)
    assert "no cuenta en los resultados" in await rank(p["xavi"], g["g3"], ["OSC law"])
    nico = emu.private_chat(p["nico"])
    assert "se registró tu orden" in await rank(p["nico"], nico, ["Tax reform"])
    await voted(c.bot, 4)
    emu.clock.advance(2 * 86400 + 60)
    result = await closed_result(c.bot, poll.id)
    # n = 3: Borda OSC 1 (beto) + 0 (dani); Tax 2 + 1 + 2; AML 2 (dani).
    assert result["borda"] == [1, 5, 2] and result["headline"] == [0, 2, 1]
    assert result["winner"] == 1 and result["strangers"] == 1
    winner = "Ganadora por segunda vuelta instantánea: Tax reform"
    await emu.wait_for(lambda: winner in texts(emu, g["g1"]) or None)


async def test_close_while_the_bot_is_down_with_chart(emu: Emulator, make_bot) -> None:
    c = await coalition(emu, make_bot, coord_lang="en")
    await compose(emu, c.coord, "Which first?", ["Law", "Taxes"], closes="2h")
    poll = await last_poll(c.bot)
    await traced(c.bot, poll.id)
    emu.vote(c.people["ana"], poll_message(emu, c.groups["g1"]), [1])
    emu.vote(c.people["dani"], poll_message(emu, c.groups["g3"]), [1])
    emu.vote(c.people["nico"], poll_message(emu, emu.private_chat(c.people["nico"])), [0])
    await voted(c.bot, 3)
    await c.bot.stop()
    emu.clock.advance(3 * 3600)          # the close falls while the bot is down
    assert poll_message(emu, c.groups["g1"]).poll.is_closed  # Telegram closed it (close_date)
    bot = await make_bot(coordinator_ids=(c.coord.id,))
    result = await closed_result(bot, poll.id)
    assert result["headline"] == [1, 2]
    coord_chat = emu.private_chat(c.coord)
    photo = await emu.wait_for(lambda: next(
        (m for m in emu.bot_messages(coord_chat) if m.photo), None), timeout=20)
    assert "Poll results" in texts(emu, coord_chat)
    # The chart's data are the options and totals, and the PNG sent decodes.
    closed = await last_poll(bot)
    chart = render.chart_for(Text("en"), closed, results.Result.from_json(result))
    assert chart.labels == ["Law", "Taxes"] and chart.values == [1, 2]
    assert photo.photo == chart.png
    pixels = image.imread(io.BytesIO(photo.photo), format="png")
    assert pixels.shape[0] > 100 and pixels.shape[1] > 300
    await eventually(lambda: _stopped(emu, c), timeout=5, what="stopPoll answered")


async def _stopped(emu: Emulator, c) -> bool:
    return any(r.method == "stopPoll" for r in emu.requests)

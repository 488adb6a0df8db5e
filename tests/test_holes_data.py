"""What members could work out from results, and the policy results follow (issue 21, items 9
and 10)."""

from __future__ import annotations

from bot.emulator import Emulator
from tests.poll_helpers import (
    closed_result,
    coalition,
    compose,
    last_poll,
    poll_message,
    traced,
    voted,
)


async def test_results_hide_groups_under_three_and_follow_the_chat_policy(emu: Emulator,
                                                                 make_bot) -> None:
    """Item 9: 'Allies: …' showed the one ally's vote right above a split that hid the same
    group as 'under 3'. Members now see no line of fewer than 3 organisations."""
    c = await coalition(emu, make_bot, coord_lang="en")
    await compose(emu, c.coord, "What first?", ["Law", "Taxes"])
    poll = await last_poll(c.bot)
    await traced(c.bot, poll.id)
    g, p = c.groups, c.people
    emu.vote(p["ana"], poll_message(emu, g["g1"]), [0])
    emu.vote(p["dani"], poll_message(emu, g["g3"]), [1])
    emu.vote(p["lola"], poll_message(emu, g["g4"]), [0])
    emu.vote(p["nico"], poll_message(emu, emu.private_chat(p["nico"])), [0])
    emu.vote(p["ali"], poll_message(emu, emu.private_chat(p["ali"])), [1])  # the one ally
    await voted(c.bot, 5)
    emu.clock.advance(2 * 86400 + 60)
    await closed_result(c.bot, poll.id)
    shown = await emu.wait_for(lambda: next((m.text for m in emu.bot_messages(g["g1"])
                                             if "Resultados de la encuesta" in (m.text or "")),
                                            None), what="the results in a member group")
    assert "Miembros plenos: Law 3, Taxes 1" in shown
    assert "Aliadas: menos de 3 organizaciones votaron; no se muestra" in shown
    assert "Taxes 1" not in shown.split("Aliadas:")[1].split("\n")[0]
    # Item 10: the results and their chart follow the low-profile group's policy (protected)
    chart = await emu.wait_for(lambda: next((m for m in emu.bot_messages(g["g4"])
                                             if m.photo is not None), None),
                               what="the chart in the low-profile group")
    assert chart.protect_content is True
    results = next(m for m in emu.bot_messages(g["g4"])
                   if "Resultados de la encuesta" in (m.text or ""))
    assert results.protect_content is True
    in_g1 = await emu.wait_for(lambda: next((m for m in emu.bot_messages(g["g1"])
                                             if m.photo is not None), None), what="g1's chart")
    assert in_g1.protect_content is False

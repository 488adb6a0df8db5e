"""Polls: poll_answer on votes, retractions, closing by the clock and by stopPoll."""

from __future__ import annotations

import pytest
from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes, PollAnswerHandler, PollHandler

from bot.emulator import DriverError, Emulator

from .ptb import polling


async def test_votes_retraction_and_auto_close(emu: Emulator, make_app) -> None:
    answers: list[tuple[int, tuple[int, ...]]] = []
    closed: list[str] = []

    async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        pa = update.poll_answer
        answers.append((pa.user.id, tuple(pa.option_ids)))

    async def on_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.poll.is_closed:
            closed.append(update.poll.id)

    app = make_app()
    app.add_handler(PollAnswerHandler(on_answer))
    app.add_handler(PollHandler(on_poll))
    alice, bob = emu.add_user("Alice"), emu.add_user("Bob")
    grp = emu.add_group("Red", members=[bob], admins=[alice], supergroup=True)
    emu.add_bot(grp, by=alice)
    async with polling(app):
        sent = await app.bot.send_poll(
            grp.id, "¿Firmamos?", ["Sí", "No", "Abstención"], is_anonymous=False, open_period=600
        )
        pm = emu.message((grp.id, sent.message_id))
        assert pm.poll is not None and pm.poll.close_date == pytest.approx(
            sent.date.timestamp() + 600, abs=1
        )
        emu.vote(alice, pm, [0])
        emu.vote(bob, pm, [1])
        emu.vote(bob, pm, [])
        await emu.wait_for(lambda: len(answers) == 3)
        assert answers == [(alice.id, (0,)), (bob.id, (1,)), (bob.id, ())]
        assert pm.poll.counts() == [1, 0, 0]
        emu.clock.advance(601)
        assert pm.poll.is_closed
        await emu.wait_for(lambda: closed == [pm.poll.id])
        with pytest.raises(DriverError, match=r"(?i)closed"):
            emu.vote(bob, pm, [2])
        with pytest.raises(BadRequest, match=r"(?i)poll has already been closed"):
            await app.bot.stop_poll(grp.id, sent.message_id)


async def test_stop_poll_and_limits(emu: Emulator, make_app) -> None:
    alice = emu.add_user("Alice")
    emu.send(alice, "/start")
    async with make_app() as app:
        sent = await app.bot.send_poll(alice.id, "Q", ["a", "b"])
        poll = await app.bot.stop_poll(alice.id, sent.message_id)
        assert poll.is_closed
        with pytest.raises(BadRequest, match=r"(?i)poll question length must not exceed 300"):
            await app.bot.send_poll(alice.id, "Q" * 301, ["a", "b"])
        with pytest.raises(BadRequest, match=r"(?i)poll options length must not exceed 100"):
            await app.bot.send_poll(alice.id, "Q", ["a" * 101, "b"])
        with pytest.raises(BadRequest, match=r"(?i)poll can't have more than 12 options"):
            await app.bot.send_poll(alice.id, "Q", [str(i) for i in range(13)])
        with pytest.raises(BadRequest, match=r"(?i)wrong open period"):
            await app.bot.send_poll(alice.id, "Q", ["a", "b"], open_period=3)

"""A crash inside a handler: logged as an event, answered with a translated apology, no traceback
in the chat, and the update still marked handled."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from telegram.ext import CommandHandler

from bot.db.models import SavedUpdate
from bot.emulator import Emulator
from tests.helpers import eventually


@pytest.mark.expects_errors  # the handler fails on purpose; the ERROR is what an operator sees
async def test_a_failing_handler_apologises_in_the_persons_language(
        emu: Emulator, bot, caplog: pytest.LogCaptureFixture) -> None:
    async def boom(update, context) -> None:
        raise RuntimeError("secret detail that must not reach the chat")

    bot.application.add_handler(CommandHandler("boom", boom), group=-1)
    ana = emu.add_user("Ana", language_code="es")
    john = emu.add_user("John", language_code="en")
    with caplog.at_level(logging.ERROR):
        sent = emu.send(ana, "/boom")
        reply = await emu.wait_for_bot_message(emu.private_chat(ana), after=sent)
        sent = emu.send(john, "/boom")
        reply_en = await emu.wait_for_bot_message(emu.private_chat(john), after=sent)
    assert reply.text.startswith("Lo siento, algo falló de mi lado")
    assert reply_en.text.startswith("Sorry, something went wrong on my side")
    assert "secret detail" not in reply.text + reply_en.text
    assert any("handler.error" in r.getMessage() for r in caplog.records)

    async def all_done() -> bool:
        async with bot.db.sessions() as session:
            rows = (await session.execute(select(SavedUpdate.status))).scalars().all()
        return len(rows) == 2 and set(rows) == {"done"}

    await eventually(all_done, what="both updates marked done")

"""Inline buttons, callback queries and their answers through a real PTB Application."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.emulator import DriverError, Emulator

from .ptb import polling

KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Español", callback_data="v1:lang:es"),
            InlineKeyboardButton("English", callback_data="v1:lang:en"),
        ],
        [InlineKeyboardButton("Docs", url="https://example.org")],
    ]
)


async def test_press_button_and_answer(emu: Emulator, make_app) -> None:
    async def lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text("Choose", reply_markup=KEYBOARD)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        q = update.callback_query
        assert q is not None and q.message is not None
        await q.answer(f"ok {q.data}")
        await q.edit_message_text(f"Chosen: {q.data.split(':')[-1]}")

    app = make_app()
    app.add_handler(CommandHandler("lang", lang))
    app.add_handler(CallbackQueryHandler(pressed))
    alice = emu.add_user("Alice")
    chat = emu.private_chat(alice)
    async with polling(app):
        m = emu.send(alice, "/lang")
        menu = await emu.wait_for_bot_message(chat, after=m)
        assert [[b.text for b in row] for row in menu.buttons] == [["Español", "English"], ["Docs"]]
        q = emu.press(alice, menu, label="Español")
        await emu.wait_for(lambda: menu.edit_date is not None)
        assert menu.text == "Chosen: es"
        assert menu.buttons == []
        assert emu.callback_answers == [(q.id, "ok v1:lang:es", False)]
        assert emu.unanswered_callbacks() == []
        with pytest.raises(DriverError, match=r"(?i)no button"):
            emu.press(alice, menu, label="Français")
        emu.forge_callback(alice, chat, menu.message_id, data="v1:xx")
        await emu.wait_for(lambda: len(emu.callback_answers) == 2)
    assert emu.callback_answers[1][1] == "ok v1:xx"


async def test_callback_answer_twice_or_late(emu: Emulator, make_app) -> None:
    app = make_app()
    alice = emu.add_user("Alice")
    chat = emu.private_chat(alice)
    emu.send(alice, "/start")
    async with app:
        msg = await app.bot.send_message(chat.id, "pick", reply_markup=KEYBOARD)
        em = emu.message((chat.id, msg.message_id))
        q1 = emu.press(alice, em, data="v1:lang:en")
        assert await app.bot.answer_callback_query(q1.id) is True
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query(q1.id)
        q2 = emu.press(alice, em, label="English")
        emu.clock.advance(16)
        with pytest.raises(BadRequest, match=r"(?i)query is too old and response timeout expired"):
            await app.bot.answer_callback_query(q2.id)
        assert [q.id for q in emu.unanswered_callbacks()] == [q2.id]
        with pytest.raises(DriverError, match=r"(?i)no callback data"):
            emu.press(alice, em, label="Docs")

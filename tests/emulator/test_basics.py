"""Commands and replies through a real PTB Application, in private and group chats."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, MessageHandler, filters

from bot.emulator import Emulator

from .ptb import polling


async def test_start_in_private_chat(emu: Emulator, make_app) -> None:
    seen: list[int] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen.append(update.effective_message.from_user.id)
        await update.effective_message.reply_html("<b>Hola</b> amiga")

    app = make_app()
    app.add_handler(CommandHandler("start", start))
    alice = emu.add_user("Alice", username="alice", user_id=2**33 + 7)
    async with polling(app):
        m = emu.send(alice, "/start")
        reply = await emu.wait_for_bot_message(emu.private_chat(alice), after=m)
    assert seen == [alice.id]
    assert reply.text == "Hola amiga"
    assert reply.html == "<b>Hola</b> amiga"
    assert reply.entities == [{"type": "bold", "offset": 0, "length": 4}]
    assert reply.message_id == m.message_id + 1
    assert emu.metrics()["sends"] == 1


async def test_group_privacy_mode(emu: Emulator, make_app) -> None:
    got: list[str] = []

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        assert msg is not None
        got.append(msg.text or "")
        if msg.text and msg.text.startswith("/help"):
            await msg.reply_text("help here")

    app = make_app()
    app.add_handler(MessageHandler(filters.TEXT, on_text))
    alice, bob = emu.add_user("Alice"), emu.add_user("Bob")
    grp = emu.add_group("Red Jalisco", members=[bob], admins=[alice])
    emu.add_bot(grp, by=alice)
    async with polling(app):
        emu.send(alice, "hola a todos", chat=grp)
        emu.send(bob, "/help@other_bot", chat=grp)
        m = emu.send(alice, "/help@coalition_test_bot", chat=grp)
        reply = await emu.wait_for_bot_message(grp, after=m)
        emu.send(bob, "a plain reply", chat=grp, reply_to=reply)
        await emu.wait_for(lambda: "a plain reply" in got)
    assert got == ["/help@coalition_test_bot", "a plain reply"]

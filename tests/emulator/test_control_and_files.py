"""The HTTP control API, strict violations, and files (upload, file_id, download)."""

from __future__ import annotations

import base64

import httpx
import pytest
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, MessageHandler, filters

from bot.emulator import Emulator

from .ptb import polling

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAYAAAC56t6BAAAAEElEQVR4nGNgYPj/nwGKAQA9AwH+"
    "5HRqzwAAAABJRU5ErkJggg=="
)


@pytest.mark.expects_errors  # an injected 500 reaches PTB's own updater, which logs it as ERROR
async def test_scenario_through_control_api(emu: Emulator, make_app) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(
            "Bienvenida",
            reply_markup={"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]},
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("listo")

    from telegram.ext import CallbackQueryHandler

    app = make_app()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with polling(app), httpx.AsyncClient(base_url=emu.control_url) as c:
        clock = (await c.get("/clock")).json()
        assert set(clock) == {"now", "scale"} and clock["scale"] == 1.0
        alice = (await c.post("/add_user", json={"first_name": "Alice", "user_id": 2**40})).json()
        uid = alice["result"]["id"]
        grp = (await c.post("/add_group", json={"title": "Red", "admins": [uid]})).json()["result"]
        assert grp["id"] < 0
        r = await c.post("/add_bot", json={"chat": grp["id"], "by": uid})
        assert r.status_code == 200
        sent = (await c.post("/send", json={"user": uid, "text": "/start"})).json()["result"]
        reply = (
            await c.post(
                "/wait_bot_message", json={"chat": uid, "after": sent["message_id"], "timeout": 5}
            )
        ).json()["result"]
        assert reply["text"] == "Bienvenida" and reply["buttons"][0][0]["callback_data"] == "ok"
        r = await c.post(
            "/press",
            json={"user": uid, "chat": uid, "message_id": reply["message_id"], "label": "OK"},
        )
        assert r.json()["result"]["data"] == "ok"
        r = await c.post(
            "/press",
            json={"user": uid, "chat": uid, "message_id": reply["message_id"], "label": "No"},
        )
        assert r.status_code == 400 and "no button" in r.json()["error"]
        await emu.wait_for(lambda: emu.callback_answers)
        assert (await c.get("/callbacks")).json()["answers"][0][1] == "listo"
        before = clock["now"]
        after = (await c.post("/advance", json={"seconds": 3600})).json()["result"]["now"]
        assert after - before >= 3600
        r = await c.post("/faults", json={"add": [{"kind": "500", "count": 1}], "latency": 0})
        assert r.json()["result"]["rules"][0]["kind"] == "500"
        transcript = (await c.get(f"/transcript/{uid}")).json()
        assert [m["from_bot"] for m in transcript] == [False, True]
        metrics = (await c.get("/metrics")).json()
        assert metrics["sends"] == 1
        assert (await c.get("/violations")).json() == []
        assert any(r["method"] == "sendMessage" for r in (await c.get("/requests")).json())
        new = (await c.post("/migrate", json={"chat": grp["id"]})).json()["result"]
        assert str(new["id"]).startswith("-100")


async def test_strict_violation_for_unknown_field(emu: Emulator) -> None:
    alice = emu.add_user("Alice")
    emu.send(alice, "/start")
    async with httpx.AsyncClient() as c:
        r = await c.post(
            f"{emu.base_url}{emu.token}/sendMessage",
            data={"chat_id": str(alice.id), "text": "hi", "colour": "red"},
        )
    assert r.status_code == 200 and r.json()["ok"] is True  # Telegram ignores it...
    assert [(v.method, v.field, v.problem) for v in emu.violations] == [
        ("sendMessage", "colour", "unknown field")
    ]  # ...the emulator records it
    emu.violations.clear()


async def test_documents_photos_and_downloads(emu: Emulator, make_app) -> None:
    got: list[bytes] = []

    async def on_doc(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        f = await msg.document.get_file()
        got.append(bytes(await f.download_as_bytearray()))
        await msg.reply_document(
            b"answer bytes",
            filename="answer.txt",
            caption="<i>ok</i>",
            parse_mode="HTML",
            protect_content=True,
        )
        await msg.reply_photo(msg.photo[-1].file_id if msg.photo else PNG)

    app = make_app()
    app.add_handler(MessageHandler(filters.Document.ALL, on_doc))
    alice = emu.add_user("Alice")
    emu.rate_limits = False  # many sends to one private chat; the limits have their own tests
    async with polling(app):
        m = emu.send_document(alice, "report.pdf", b"%PDF-1.4 data", mime_type="application/pdf")
        await emu.wait_for(lambda: len(emu.bot_messages(alice.id)) == 2)
        doc, photo = emu.bot_messages(alice.id)
        assert got == [b"%PDF-1.4 data"]
        assert doc.document.filename == "answer.txt" and doc.document.content == b"answer bytes"
        assert doc.caption == "ok" and doc.caption_html == "<i>ok</i>" and doc.protect_content
        assert photo.photo == PNG
        assert app.bot is not None
        sent = await app.bot.send_photo(alice.id, photo.photo_file.file_id)
        assert (sent.photo[-1].width, sent.photo[-1].height) == (2, 3)
        copied = await app.bot.copy_message(alice.id, alice.id, m.message_id)
        assert emu.message((alice.id, copied.message_id)).document.content == b"%PDF-1.4 data"
        fwd = await app.bot.forward_message(alice.id, alice.id, m.message_id)
        assert fwd.forward_origin.sender_user.id == alice.id
        member = await app.bot.get_chat_member(alice.id, alice.id)
        assert member.status == "member"
        chat = await app.bot.get_chat(alice.id)
        assert chat.first_name == "Alice"
        await app.bot.set_my_commands([("start", "Start")], language_code="es")
        assert [c.command for c in await app.bot.get_my_commands(language_code="es")] == ["start"]
        assert await app.bot.get_my_commands() == ()
        await app.bot.send_chat_action(alice.id, "typing")
        assert await app.bot.set_chat_title(alice.id, "x") is True  # answered, not emulated
        dice = await app.bot.send_dice(alice.id)  # checked, counted, in the transcript
        assert emu.transcript(alice.id)[-1].message_id == dice.message_id
        assert emu.transcript(alice.id)[-1].not_emulated == "sendDice"
    assert emu.not_emulated == ["setChatTitle", "sendDice"]

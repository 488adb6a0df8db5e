"""Every error text of TELEGRAM-NOTES.md, raised as the right PTB exception."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken

from bot.emulator import Emulator

from .ptb import build_app, same_error

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


async def check(exc_type: type[Exception], text: str, coro: Any) -> Exception:
    with pytest.raises(exc_type) as info:
        await coro
    assert same_error(info.value, text), f"{info.value!r} is not {text!r}"
    return info.value


async def test_bad_requests(emu: Emulator, make_app) -> None:
    alice = emu.add_user("Alice")
    emu.send(alice, "/start")
    cid = alice.id
    async with make_app() as app:
        bot = app.bot
        await check(BadRequest, "Bad Request: chat not found", bot.send_message(-999, "x"))
        await check(BadRequest, "Bad Request: message text is empty", bot.send_message(cid, ""))
        await check(
            BadRequest, "Bad Request: message is too long", bot.send_message(cid, "x" * 4097)
        )
        ok = await bot.send_message(cid, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
        assert len(ok.text) == 4096
        await check(
            BadRequest,
            'Bad Request: can\'t parse entities: Unsupported start tag "blink" at byte offset 0',
            bot.send_message(cid, "<blink>x</blink>", parse_mode="HTML"),
        )
        big = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="x" * 65)]])
        await check(
            BadRequest,
            "Bad Request: BUTTON_DATA_INVALID",
            bot.send_message(cid, "x", reply_markup=big),
        )
        m = await bot.send_message(cid, "hello")
        await check(BadRequest, NOT_MODIFIED, bot.edit_message_text("hello", cid, m.message_id))
        await check(
            BadRequest,
            "Bad Request: text must be non-empty",
            bot.edit_message_text("", cid, m.message_id),
        )
        await check(
            BadRequest,
            "Bad Request: message to edit not found",
            bot.edit_message_text("x", cid, 9999),
        )
        await check(
            BadRequest, "Bad Request: message to delete not found", bot.delete_message(cid, 9999)
        )
        emu.clock.advance(48 * 3600 + 1)
        await check(
            BadRequest,
            "Bad Request: message can't be deleted",
            bot.delete_message(cid, m.message_id),
        )
        doc = await bot.send_document(cid, b"%PDF-1.4 tiny", filename="a.pdf")
        await check(
            BadRequest,
            "Bad Request: message caption is too long",
            bot.send_document(cid, doc.document.file_id, caption="c" * 1025),
        )
        fresh = await bot.send_message(cid, "bye")
        assert await bot.delete_message(cid, fresh.message_id) is True
        assert emu.message((cid, fresh.message_id)).deleted


async def test_forbidden(emu: Emulator, make_app) -> None:
    alice, bob = emu.add_user("Alice"), emu.add_user("Bob")
    emu.send(alice, "/start")
    grp = emu.add_group("G", admins=[alice])
    sup = emu.add_group("S", admins=[alice], supergroup=True)
    left = emu.add_group("L", admins=[alice])
    for chat in (grp, sup, left):
        emu.add_bot(chat, by=alice)
    async with make_app() as app:
        bot = app.bot
        await check(
            Forbidden,
            "Forbidden: bot can't initiate conversation with a user",
            bot.send_message(bob.id, "hi"),
        )
        emu.block(alice)
        await check(
            Forbidden, "Forbidden: bot was blocked by the user", bot.send_message(alice.id, "x")
        )
        emu.unblock(alice)
        assert (await bot.send_message(alice.id, "back")).text == "back"
        emu.remove_bot(grp, by=alice)
        emu.remove_bot(sup, by=alice)
        await check(
            Forbidden,
            "Forbidden: bot was kicked from the group chat",
            bot.send_message(grp.id, "x"),
        )
        await check(
            Forbidden,
            "Forbidden: bot was kicked from the supergroup chat",
            bot.send_message(sup.id, "x"),
        )
        assert await bot.leave_chat(left.id) is True
        await check(
            Forbidden,
            "Forbidden: bot is not a member of the group chat",
            bot.send_message(left.id, "x"),
        )
        emu.faults.forbid_chat(alice.id)
        await check(
            Forbidden, "Forbidden: bot was blocked by the user", bot.send_message(alice.id, "x")
        )


async def test_migration(emu: Emulator, make_app) -> None:
    alice = emu.add_user("Alice")
    grp = emu.add_group("Red", admins=[alice])
    emu.add_bot(grp, by=alice)
    new = emu.migrate(grp)
    assert str(new.id).startswith("-100") and len(str(new.id)) == 14
    assert emu.transcript(grp)[-1].extra == {"migrate_to_chat_id": new.id}
    assert emu.transcript(new)[-1].extra == {"migrate_from_chat_id": grp.id}
    async with make_app() as app:
        with pytest.raises(ChatMigrated) as info:
            await app.bot.send_message(grp.id, "hola")
        assert info.value.new_chat_id == new.id
        assert (await app.bot.send_message(new.id, "hola")).chat.id == new.id
    assert emu.requests[-2].error == "Bad Request: group chat was upgraded to a supergroup chat"


async def test_poll_closed_and_query_too_old(emu: Emulator, make_app) -> None:
    alice = emu.add_user("Alice")
    emu.send(alice, "/start")
    async with make_app() as app:
        sent = await app.bot.send_poll(alice.id, "Q", ["a", "b"])
        await app.bot.stop_poll(alice.id, sent.message_id)
        await check(
            BadRequest,
            "Bad Request: poll has already been closed",
            app.bot.stop_poll(alice.id, sent.message_id),
        )
        await check(
            BadRequest,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
            app.bot.answer_callback_query("12345"),
        )


async def test_invalid_token_unknown_method_and_conflicts(emu: Emulator, make_app) -> None:
    bad = build_app(emu, token="999:WRONG")
    with pytest.raises(InvalidToken):
        await bad.bot.get_me()
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{emu.base_url}999:WRONG/getMe")
        assert (r.status_code, r.json()) == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
        r = await client.post(f"{emu.base_url}{emu.token}/sendTelepathy", data={"x": "1"})
        assert (r.status_code, r.json()["description"]) == (404, "Not Found")
        r = await client.get(f"{emu.base_url}{emu.token}/GETME")
        assert r.status_code == 200 and r.json()["result"]["username"] == "coalition_test_bot"
    async with make_app() as app:
        with pytest.raises(InvalidToken):
            await app.bot._post("sendTelepathy")  # an unknown method: 404 -> InvalidToken
        assert await app.bot.set_webhook("http://127.0.0.1:9/hook") is True
        await check(
            Conflict,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
            "delete the webhook first",
            app.bot.get_updates(timeout=0),
        )
        await app.bot.delete_webhook()
    emu.violations.clear()  # the unknown method and field above were deliberate

"""Long polling, getUpdates conflicts, allowed_updates and webhook delivery with retries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from telegram import Update
from telegram.error import Conflict
from telegram.ext import ChatMemberHandler, CommandHandler, ContextTypes

from bot.emulator import Emulator

from .ptb import polling, same_error

TERMINATED = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)


async def test_two_pollers_conflict(emu: Emulator, make_app) -> None:
    alice = emu.add_user("Alice")
    async with make_app() as first, make_app() as second:
        long_poll = asyncio.create_task(first.bot.get_updates(timeout=5))
        await emu.wait_for(lambda: any(r.method == "getUpdates" for r in emu.requests))
        assert await second.bot.get_updates(timeout=0) == ()
        with pytest.raises(Conflict) as info:
            await long_poll
        assert same_error(info.value, TERMINATED)
        emu.send(alice, "/start")
        updates = await second.bot.get_updates(timeout=1)
        assert [u.message.text for u in updates] == ["/start"]
        # offset confirms: the update is gone
        assert await second.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()


async def test_allowed_updates_remembered_and_my_chat_member(emu: Emulator, make_app) -> None:
    events: list[tuple[str, str]] = []

    async def member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        cm = update.my_chat_member
        events.append((cm.old_chat_member.status, cm.new_chat_member.status))

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        events.append(("start", update.effective_chat.type))

    alice = emu.add_user("Alice")
    grp = emu.add_group("G", admins=[alice], supergroup=True)
    app = make_app()
    app.add_handler(ChatMemberHandler(member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(CommandHandler("start", start))
    async with polling(app, allowed=["message", "my_chat_member"]):
        emu.add_bot(grp, by=alice)
        emu.promote_bot(grp, by=alice)
        emu.send(alice, "/start")
        emu.block(alice)
        await emu.wait_for(lambda: len(events) == 4)
        emu.remove_bot(grp, by=alice)
        await emu.wait_for(lambda: len(events) == 5)
    assert events == [
        ("left", "member"),
        ("member", "administrator"),
        ("start", "private"),
        ("member", "kicked"),
        ("administrator", "kicked"),
    ]
    assert emu.world.allowed_updates == {"message", "my_chat_member"}
    assert emu.transcript(grp)[0].service == "new_chat_members"


class Receiver:
    """A tiny webhook endpoint: answers slowly once, then 500 once, then 200."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str | None, float]] = []
        self.plan = ["slow", "500"]

    async def handle(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self.calls.append((body["update_id"], secret, asyncio.get_running_loop().time()))
        step = self.plan.pop(0) if self.plan else "ok"
        if step == "slow":
            await asyncio.sleep(1.5)
        if step == "500":
            return web.Response(status=500)
        return web.Response(text="")


async def test_webhook_delivery_with_retries(emu: Emulator, make_app) -> None:
    emu.webhook_timeout = 0.5
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    alice = emu.add_user("Alice")
    try:
        async with make_app() as ptb:
            assert await ptb.bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t")
            first = emu.send(alice, "/start")
            emu.send(alice, "second")
            await emu.wait_for(lambda: len(receiver.calls) == 4, timeout=10)
            info = await ptb.bot.get_webhook_info()
            assert info.url.endswith("/hook")
            assert info.last_error_message.startswith(("Read timeout", "Wrong response"))
            await emu.wait_for(lambda: len(emu.world.updates) == 0)
            assert (await ptb.bot.get_webhook_info()).pending_update_count == 0
            ids = [c[0] for c in receiver.calls]
            assert ids[0] == ids[1] == ids[2] and ids[3] == ids[0] + 1  # same update, in order
            assert {c[1] for c in receiver.calls} == {"s3cr3t"}
            assert first.text == "/start"
            await ptb.bot.delete_webhook(drop_pending_updates=True)
    finally:
        await runner.cleanup()


async def test_drop_pending_updates(emu: Emulator, make_app) -> None:
    alice = emu.add_user("Alice")
    emu.send(alice, "/start")
    async with make_app() as ptb:
        assert (await ptb.bot.get_webhook_info()).pending_update_count == 1
        await ptb.bot.delete_webhook(drop_pending_updates=True)
        assert (await ptb.bot.get_webhook_info()).pending_update_count == 0

"""The pinned rate limits, answered as RetryAfter with the right retry_after."""

from __future__ import annotations

import pytest
from telegram.error import RetryAfter

from bot.emulator import Emulator

from .ptb import retry_seconds

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def started(emu: Emulator, n: int) -> list[int]:
    ids = []
    for i in range(n):
        user = emu.add_user(f"U{i}")
        emu.send(user, "/start")
        ids.append(user.id)
    return ids


async def test_31st_send_in_one_second(emu: Emulator, make_app) -> None:
    emu.clock.scale = 0  # freeze: every send lands in the same emulated second
    chats = started(emu, 31)
    async with make_app() as app:
        for cid in chats[:30]:
            await app.bot.send_message(cid, "hola")
        with pytest.raises(RetryAfter) as info:
            await app.bot.send_message(chats[30], "hola")
        assert retry_seconds(info.value) == 1
        assert emu.requests[-1].error == "Too Many Requests: retry after 1"
        assert len(emu.bot_messages(chats[30])) == 0  # nothing applied
        emu.clock.advance(0.5)
        with pytest.raises(RetryAfter):
            await app.bot.send_message(chats[30], "hola")
        emu.clock.advance(0.5)
        await app.bot.send_message(chats[30], "hola")
        # getters, answers, deletions and chat actions are not counted
        await app.bot.get_chat(chats[0])
        await app.bot.send_chat_action(chats[0], "typing")
    m = emu.metrics()
    assert m["too_many_requests"] == 2 and m["sends"] == 31 and m["peak_per_second"] == 30


async def test_private_chat_bucket(emu: Emulator, make_app) -> None:
    emu.clock.scale = 0
    (cid,) = started(emu, 1)
    async with make_app() as app:
        for _ in range(5):
            await app.bot.send_message(cid, "burst")
        with pytest.raises(RetryAfter) as info:
            await app.bot.send_message(cid, "sixth")
        assert retry_seconds(info.value) == 1
        # sustained: one a second passes, faster does not
        for _ in range(3):
            emu.clock.advance(1.0)
            await app.bot.send_message(cid, "steady")
        emu.clock.advance(0.4)
        with pytest.raises(RetryAfter) as info:
            await app.bot.send_message(cid, "too fast")
        assert retry_seconds(info.value) == 1
        # an edit counts as a send
        emu.clock.advance(0.6)
        first = emu.bot_messages(cid)[0]
        await app.bot.edit_message_text("edited", cid, first.message_id)
        with pytest.raises(RetryAfter):
            await app.bot.edit_message_text("again", cid, first.message_id)
    assert len(emu.bot_messages(cid)) == 8


async def test_21st_send_to_a_group_in_a_minute(emu: Emulator, make_app) -> None:
    emu.clock.scale = 0
    alice = emu.add_user("Alice")
    grp = emu.add_group("G", admins=[alice])
    emu.add_bot(grp, by=alice)
    async with make_app() as app:
        for _ in range(10):
            await app.bot.send_message(grp.id, "one")
        emu.clock.advance(20)
        for _ in range(10):
            await app.bot.send_message(grp.id, "two")
        emu.clock.advance(15)
        with pytest.raises(RetryAfter) as info:
            await app.bot.send_message(grp.id, "21st")
        assert retry_seconds(info.value) == 25  # the first ten leave the window at t0+60
        emu.clock.advance(25)
        await app.bot.send_message(grp.id, "21st")
        emu.rate_limits = False
        for _ in range(40):
            await app.bot.send_message(grp.id, "unlimited")

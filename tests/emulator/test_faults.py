"""Faults: refused before applying (500, time-out), applied but the answer lost, 403 chats."""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import Forbidden, NetworkError, TimedOut

from bot.emulator import Emulator


async def test_lost_answer_lands_but_client_times_out(emu: Emulator, make_app) -> None:
    alice = emu.add_user("Alice")
    emu.send(alice, "/start")
    emu.faults.hold = 2.0
    emu.faults.add("lost", methods={"sendMessage"}, count=1)
    async with make_app(read_timeout=0.5) as app:
        with pytest.raises(TimedOut):
            await app.bot.send_message(alice.id, "did it arrive?")
        assert [m.text for m in emu.bot_messages(alice.id)] == ["did it arrive?"]
        await app.bot.send_message(alice.id, "did it arrive?")  # the bot's retry: a duplicate
    m = emu.metrics()
    assert m["duplicates"] == 1 and m["faults"] == {"lost": 1} and m["sends"] == 2


async def test_a_client_that_times_out_first_loses_the_answer(emu: Emulator, make_app) -> None:
    """No fault injected: the request is slow, the client gives up, the message still lands.
    The emulator counts that answer as lost, as it counts an injected one."""
    alice = emu.add_user("Alice")
    emu.send(alice, "/start")
    async with make_app(read_timeout=0.3) as app:
        emu.faults.latency = 1.5  # (after the app's getMe)
        with pytest.raises(TimedOut):
            await app.bot.send_message(alice.id, "slow")
        await asyncio.sleep(0.3)  # the emulator sees its client gone
        emu.faults.latency = 0.0
        await app.bot.send_message(alice.id, "fast")
    assert [m.text for m in emu.bot_messages(alice.id)] == ["slow", "fast"]
    m = emu.metrics()
    assert m["answers_lost"] == 1 and m["faults"] == {}


async def test_500_and_timeout_change_nothing(emu: Emulator, make_app) -> None:
    alice = emu.add_user("Alice")
    emu.send(alice, "/start")
    emu.faults.hold = 2.0
    rule = emu.faults.add("500", methods={"sendmessage"}, count=1)
    emu.faults.add("timeout", methods={"sendMessage"}, chats={alice.id}, count=1)
    async with make_app(read_timeout=0.5) as app:
        with pytest.raises(NetworkError) as info:
            await app.bot.send_message(alice.id, "x")
        assert "Internal Server Error" in str(info.value)
        with pytest.raises(TimedOut):
            await app.bot.send_message(alice.id, "y")
        assert emu.bot_messages(alice.id) == []
        assert rule.fired == 1
        await app.bot.send_message(alice.id, "z")
    assert [m.text for m in emu.bot_messages(alice.id)] == ["z"]
    assert emu.metrics()["faults"] == {"500": 1, "timeout": 1}
    assert emu.metrics()["sends"] == 1


async def test_rate_latency_and_forbidden_chat(emu: Emulator, make_app) -> None:
    alice, bob = emu.add_user("Alice"), emu.add_user("Bob")
    emu.send(alice, "/start")
    emu.send(bob, "/start")
    emu.rate_limits = False
    emu.faults.add("502", rate=0.5, seed=7, methods={"sendMessage"})
    emu.faults.forbid_chat(bob.id)
    emu.faults.latency = 0.05
    async with make_app() as app:
        failures = 0
        for _ in range(20):
            try:
                await app.bot.send_message(alice.id, "x")
            except NetworkError:
                failures += 1
        assert 3 < failures < 17
        with pytest.raises(Forbidden):
            await app.bot.send_message(bob.id, "x")
        emu.faults.clear()
        await app.bot.send_message(bob.id, "free again")
    assert emu.metrics()["faults"]["502"] == failures

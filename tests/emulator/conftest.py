"""Fixtures: a started emulator per test (strict, violations asserted empty) and PTB apps on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from telegram.ext import Application

from bot.emulator import Emulator

from .ptb import build_app


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator(token="123456:TEST-TOKEN", bot_username="coalition_test_bot")
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert emulator.violations == [], f"strict violations: {emulator.violations}"


@pytest.fixture
def make_app(emu: Emulator) -> Callable[..., Application]:
    return lambda **kw: build_app(emu, **kw)

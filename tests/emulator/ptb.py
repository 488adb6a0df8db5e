"""Helpers for driving a real python-telegram-bot Application against the emulator."""

from __future__ import annotations

import contextlib
import datetime as dtm
import warnings
from collections.abc import AsyncIterator
from typing import Any

from telegram.ext import Application, ApplicationBuilder

from bot.emulator import Emulator

ALLOWED = ["message", "edited_message", "callback_query", "poll", "poll_answer", "my_chat_member"]


def build_app(emu: Emulator, read_timeout: float = 2.0, **kw: Any) -> Application:
    """A real PTB Application pointed at the emulator, with short timeouts."""
    builder = (
        ApplicationBuilder()
        .token(kw.pop("token", emu.token))
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .read_timeout(read_timeout)
        .write_timeout(2.0)
        .connect_timeout(2.0)
        .pool_timeout(2.0)
        .get_updates_read_timeout(2.0)
    )
    return builder.build()


@contextlib.asynccontextmanager
async def polling(app: Application, allowed: list[str] | None = None) -> AsyncIterator[Application]:
    """Run ``app`` with long polling for the duration of the block."""
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0.0, timeout=dtm.timedelta(seconds=1), allowed_updates=allowed or ALLOWED
    )
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def retry_seconds(exc: Any) -> float:
    """RetryAfter.retry_after in seconds (an int, or a timedelta with PTB_TIMEDELTA), without
    PTB's deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def same_error(exc: BaseException, telegram_text: str) -> bool:
    """Whether a PTB exception carries Telegram's text (PTB drops "Bad Request: " and
    capitalises what is left)."""
    got = getattr(exc, "message", str(exc)).lower()
    return got in (telegram_text.lower(), telegram_text.removeprefix("Bad Request: ").lower())

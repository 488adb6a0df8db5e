"""PTB's rate-limiter hook, backed by the pacer: every request the bot makes passes through here.

Sends and edits wait for a pacer slot and tell the pacer when their answer is in (its window of
arrivals counts a send from leaving to one second after its answer); a 429 pauses the pacer for
`retry_after` and the request is tried again (not counted as an attempt anywhere). Reads (getMe,
getChatAdministrators...), answers to button presses and getUpdates pass straight through:
Telegram does not count them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.pacer import Pacer

log = logging.getLogger(__name__)

PACED = frozenset({
    "sendMessage", "sendPoll", "sendDocument", "sendPhoto", "sendVideo", "sendAudio",
    "sendVoice", "sendAnimation", "sendSticker", "sendMediaGroup", "sendLocation", "sendContact",
    "sendDice", "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
    "editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia",
    "stopPoll",
})
MAX_429_RETRIES = 20

JSON = bool | dict[str, Any] | list[dict[str, Any]]


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]


class PacedRateLimiter(BaseRateLimiter[int]):
    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self.hits_429 = 0

    async def initialize(self) -> None:
        """Nothing to set up: the pacer lives as long as the service."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        if endpoint == "answerCallbackQuery":
            try:
                return await callback(*args, **kwargs)
            except BadRequest as exc:
                # Telegram keeps a press answerable for a few seconds. A press handled later
                # (a busy chat, a loaded database) has lost only its toast: the handler goes on
                # and does what was pressed, instead of failing as an error.
                if "query is too old" not in exc.message.lower():
                    raise
                log.info("button.answer_expired")
                return True
        if endpoint not in PACED:
            return await callback(*args, **kwargs)
        chat_id: int | None
        try:
            chat_id = int(data.get("chat_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            chat_id = None
        retries = rate_limit_args if rate_limit_args is not None else MAX_429_RETRIES
        for attempt in range(retries + 1):
            await self.pacer.acquire(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.hits_429 += 1
                if attempt == retries:
                    raise
                wait = retry_seconds(exc)
                log.info("pacer.retry_after seconds=%.1f", wait)
                self.pacer.pause(wait)
            finally:  # the answer is in: the arrivals window counts it for one more second
                self.pacer.release()
        raise AssertionError("unreachable")

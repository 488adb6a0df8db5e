"""A local Telegram Bot API emulator (see README.md in this folder)."""

from bot.emulator.clock import Clock
from bot.emulator.driver import Emulator
from bot.emulator.errors import ApiError, DriverError
from bot.emulator.world import EButton, ECallbackQuery, EChat, EDocument, EMessage, EPoll, EUser

__all__ = [
    "ApiError",
    "Clock",
    "DriverError",
    "EButton",
    "ECallbackQuery",
    "EChat",
    "EDocument",
    "EMessage",
    "EPoll",
    "EUser",
    "Emulator",
]

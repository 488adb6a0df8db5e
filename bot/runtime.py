"""What every handler and task needs, built once at start and kept in `bot_data`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import Bot
from telegram.ext import Application, CallbackContext

from bot.clock import Clock
from bot.config import Settings
from bot.db.engine import Database
from bot.scheduler import Scheduler

KEY = "runtime"


@dataclass
class Runtime:
    """Handlers and scheduled tasks take this, never the service object: what they need and no
    more (`bot` is the application's Bot, through the pacer like every request)."""

    settings: Settings
    db: Database
    clock: Clock
    scheduler: Scheduler
    instance: str
    bot: Bot
    wake_sender: Callable[[], None] = lambda: None
    bot_username: str = ""


def runtime_of(context: CallbackContext | Application) -> Runtime:  # type: ignore[type-arg]
    data = context.bot_data if isinstance(context, Application) else context.application.bot_data
    return data[KEY]

"""Member safety in Telegram: /privacy, /forget, /exit and /lowprofile, and the clean-up that
deletes the bot's messages and leaves an organisation's groups.

The capability's contract with `handlers/__init__.py`: `register(application)` and
`task_kinds(rt)`.
"""

from __future__ import annotations

from collections.abc import Iterator

from telegram.ext import Application

from bot.runtime import Runtime
from bot.scheduler import TaskKind
from handlers.safety import safety, tasks


def register(application: Application) -> None:  # type: ignore[type-arg]
    safety.register(application)


def task_kinds(rt: Runtime) -> Iterator[TaskKind]:
    yield from tasks.task_kinds(rt)

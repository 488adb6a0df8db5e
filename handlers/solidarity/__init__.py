"""Solidarity in Telegram: /ask, offers, accepting, relaying, closing, /requests, and the
escalation of an urgent request nobody offered to help with.

The capability's contract with `handlers/__init__.py`: `register(application)` and
`task_kinds(rt)`.
"""

from __future__ import annotations

from collections.abc import Iterator

from telegram.ext import Application

from bot.runtime import Runtime
from bot.scheduler import TaskKind
from handlers.solidarity import solidarity, tasks


def register(application: Application) -> None:  # type: ignore[type-arg]
    solidarity.register(application)


def task_kinds(rt: Runtime) -> Iterator[TaskKind]:
    yield from tasks.task_kinds(rt)

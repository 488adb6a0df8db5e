"""Advocacy actions in Telegram: /action (compose, announce, move, cancel), /upcoming, RSVP and
calendar buttons, and the reminders.

The capability's contract with `handlers/__init__.py`: `register(application)` and
`task_kinds(rt)`.
"""

from __future__ import annotations

from collections.abc import Iterator

from telegram.ext import Application

from bot.runtime import Runtime
from bot.scheduler import TaskKind
from handlers.actions import actions, copies, tasks

# Buttons only: they register when imported (`@on`).
BUTTONS_AND_STEPS = (copies,)


def register(application: Application) -> None:  # type: ignore[type-arg]
    actions.register(application)


def task_kinds(rt: Runtime) -> Iterator[TaskKind]:
    yield from tasks.task_kinds(rt)

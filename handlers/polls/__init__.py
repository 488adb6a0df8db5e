"""Polls in Telegram: /poll (compose), /polls, ballots (buttons, native polls, ranked ballots),
and a poll's scheduled work (tracing copies, the nudge, the close with results).

The capability's contract with `handlers/__init__.py`: `register(application)` and
`task_kinds(rt)`.
"""

from __future__ import annotations

from collections.abc import Iterator

from telegram.ext import Application

from bot.runtime import Runtime
from bot.scheduler import TaskKind
from handlers.polls import polls, tasks


def register(application: Application) -> None:  # type: ignore[type-arg]
    polls.register(application)
    application.add_handler(polls.answer_handler())


def task_kinds(rt: Runtime) -> Iterator[TaskKind]:
    yield from tasks.task_kinds(rt)

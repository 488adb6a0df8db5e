"""Digests in Telegram: /digest, /digest_settings, and the scheduled member and coordinators'
digests.

The capability's contract with `handlers/__init__.py`: `register(application)` and
`task_kinds(rt)`.
"""

from __future__ import annotations

from collections.abc import Iterator

from telegram.ext import Application

from bot.runtime import Runtime
from bot.scheduler import TaskKind
from handlers.digests import digests


def register(application: Application) -> None:  # type: ignore[type-arg]
    digests.register(application)


def task_kinds(rt: Runtime) -> Iterator[TaskKind]:
    yield from digests.task_kinds(rt)

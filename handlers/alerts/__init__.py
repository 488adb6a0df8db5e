"""Alerts in Telegram: /alert (compose and send), the two-person review, the copies and their
answer and sign-on buttons, corrections and withdrawals, /alerts (follow-up), /report, the
nudge and the escalation.

The capability's contract with `handlers/__init__.py`: `register(application)` and
`task_kinds(rt)`.
"""

from __future__ import annotations

from collections.abc import Iterator

from telegram.ext import Application

from bot.runtime import Runtime
from bot.scheduler import TaskKind
from handlers.alerts import (
    alerts,
    copies,
    corrections,
    escalation,
    followup,
    reports,
    review,
    statements,
    tasks,
)

# Modules with buttons and steps only: they register when imported (`@on`, `@step`).
BUTTONS_AND_STEPS = (copies, corrections, review, statements)


def register(application: Application) -> None:  # type: ignore[type-arg]
    for module in (alerts, followup, reports):
        module.register(application)


def task_kinds(rt: Runtime) -> Iterator[TaskKind]:
    yield from tasks.task_kinds(rt)
    yield from escalation.task_kinds(rt)

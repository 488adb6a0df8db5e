"""Thin Telegram handlers: parse the update, check the role, call a service, render the reply.

A folder per capability, named as its services are (`bot/services/<capability>/`), and `shared/`
for what they all use. The one contract with `bot/app.py`: `register(application)` adds every
capability's commands (each capability's `register`; buttons register with
`handlers.shared.buttons.on`, free-text steps with `handlers.shared.steps.step`; the catch-alls
come last), and `task_kinds(rt)` gathers every capability's scheduled-task kinds, each built from
the runtime alone.
"""

from __future__ import annotations

from collections.abc import Iterator

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.runtime import Runtime
from bot.scheduler import TaskKind
from handlers import actions, alerts, digests, membership, polls, safety, solidarity
from handlers.shared import buttons, errors, flows

CAPABILITIES = (membership, safety, alerts, polls, actions, solidarity, digests)


def task_kinds(rt: Runtime) -> Iterator[TaskKind]:
    for capability in CAPABILITIES:
        yield from capability.task_kinds(rt)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("cancel", flows.cancel))
    for capability in CAPABILITIES:
        capability.register(application)
    application.add_handler(CallbackQueryHandler(buttons.on_button))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, flows.text_message))
    application.add_error_handler(errors.on_error)

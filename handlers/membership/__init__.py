"""Membership in Telegram: /start and /help, /register and invitations, approvals, an
organisation's own business (/link, /profile, /contacts, /leave), the coordinators' views
(/members, /export, /coordinators, /invitations), each chat's /language and /timezone, and the
bot's own membership changes.

The capability's contract with `handlers/__init__.py`: `register(application)` and
`task_kinds(rt)`.
"""

from __future__ import annotations

from collections.abc import Iterator

from telegram.ext import Application, ChatMemberHandler, CommandHandler

from bot.runtime import Runtime
from bot.scheduler import TaskKind
from handlers.membership import (
    chat_events,
    coordination,
    invitations,
    language,
    organisations,
    registration,
    start,
    timezone,
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start.start))
    application.add_handler(CommandHandler("help", start.help_command))
    application.add_handler(CommandHandler("language", language.language_command))
    application.add_handler(CommandHandler("timezone", timezone.timezone_command))
    for module in (registration, invitations, organisations, coordination):
        module.register(application)
    application.add_handler(ChatMemberHandler(chat_events.my_chat_member,
                                              ChatMemberHandler.MY_CHAT_MEMBER))


def task_kinds(rt: Runtime) -> Iterator[TaskKind]:
    return iter(())

"""Thin Telegram handlers: parse the update, check the role, call a service, render the reply.

The one contract with `bot/app.py`: `register(application)` adds every capability's commands
(each capability module has its own `register`; buttons register with `handlers.buttons.on`,
free-text steps with `handlers.steps.step`; the catch-alls come last), and `task_kinds(rt)`
gathers every capability's scheduled-task kinds, each built from the runtime alone.
"""

from __future__ import annotations

from collections.abc import Iterator

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.runtime import Runtime
from bot.scheduler import TaskKind
from handlers import (
    action_tasks,
    actions,
    alert_escalation,
    alert_followup,
    alert_reports,
    alert_tasks,
    alerts,
    buttons,
    chat_events,
    coordination,
    digests,
    errors,
    flows,
    invitations,
    language,
    organisations,
    poll_tasks,
    polls,
    registration,
    safety,
    safety_tasks,
    solidarity,
    solidarity_tasks,
    start,
    timezone,
)

CAPABILITIES = (registration, invitations, organisations, coordination, safety, alerts,
                alert_followup, alert_reports, polls, actions, solidarity, digests)

# Modules with `task_kinds(rt)`: polls' close, nudge and tracing; the alert nudge and escalation;
# member and coordinators' digests; actions' reminders; urgent requests' escalation; `/exit`.
TASKS = (poll_tasks, alert_tasks, alert_escalation, digests, action_tasks, solidarity_tasks,
         safety_tasks)


def task_kinds(rt: Runtime) -> Iterator[TaskKind]:
    for module in TASKS:
        yield from module.task_kinds(rt)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start.start))
    application.add_handler(CommandHandler("help", start.help_command))
    application.add_handler(CommandHandler("language", language.language_command))
    application.add_handler(CommandHandler("timezone", timezone.timezone_command))
    application.add_handler(CommandHandler("cancel", flows.cancel))
    for module in CAPABILITIES:
        module.register(application)
    application.add_handler(polls.answer_handler())
    application.add_handler(CallbackQueryHandler(buttons.on_button))
    application.add_handler(ChatMemberHandler(chat_events.my_chat_member,
                                              ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, flows.text_message))
    application.add_error_handler(errors.on_error)

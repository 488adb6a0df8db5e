"""Thin Telegram handlers: parse the update, check the role, call a service, render the reply.

Each capability module has `register(application)` adding its commands; buttons register with
`handlers.buttons.on`, free-text steps with `handlers.steps.step`. The catch-alls (buttons, free
text, the error handler) are added last.
"""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import (
    actions,
    alert_followup,
    alert_reports,
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
    polls,
    registration,
    safety,
    solidarity,
    start,
    timezone,
)

CAPABILITIES = (registration, invitations, organisations, coordination, safety, alerts,
                alert_followup, alert_reports, polls, actions, solidarity, digests)


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

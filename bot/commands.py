"""The command menu Telegram shows, per language and per scope (members, coordinators)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.i18n import LANGUAGES, N_, Text

log = logging.getLogger(__name__)

MEMBER_COMMANDS: list[tuple[str, str]] = [
    ("start", N_("Start talking with the bot")),
    ("help", N_("What this bot does and what you can do")),
    ("language", N_("Language of this chat")),
    ("timezone", N_("Time zone of this chat")),
    ("cancel", N_("Stop what you are doing")),
    ("register", N_("Register your organisation")),
    ("invite", N_("Invite a colleague to your organisation")),
    ("link", N_("Link this group to your organisation")),
    ("profile", N_("Your organisation's profile")),
    ("contacts", N_("Your organisation's contacts")),
    ("leave", N_("Take your organisation out of the coalition")),
    ("report", N_("Report a threat to the coordinators")),
    ("digest", N_("This chat's digest, now")),
    ("digest_settings", N_("How often this chat gets the digest")),
    ("privacy", N_("What the bot keeps about you, and for how long")),
    ("forget", N_("Erase your own data")),
    ("lowprofile", N_("Hide your organisation's name from other members")),
    ("exit", N_("Emergency exit: erase your organisation and leave")),
    ("polls", N_("Polls and their results")),
    ("upcoming", N_("Coming advocacy actions, with calendar files")),
    ("ask", N_("Ask the coalition for help")),
]
COORDINATOR_COMMANDS: list[tuple[str, str]] = [
    *MEMBER_COMMANDS,
    ("pending", N_("Registrations waiting for a decision")),
    ("invitations", N_("Open invitations: list and withdraw")),
    ("members", N_("Member organisations, with filters")),
    ("export", N_("Export members as a CSV file (private chat)")),
    ("coordinators", N_("The coordinators: list, add, remove")),
    ("alert", N_("Compose and send an alert")),
    ("alerts", N_("Recent alerts: delivery and answers")),
    ("poll", N_("Create a poll on priorities")),
    ("action", N_("Schedule an advocacy action with reminders")),
    ("requests", N_("Requests for help: list and measures")),
]


# What a person who speaks for no organisation yet can use.
STRANGER_COMMANDS = frozenset({"start", "help", "language", "timezone", "cancel", "register",
                               "privacy", "forget"})


def commands_for(role: str) -> list[tuple[str, str]]:
    """The commands (name, untranslated description) a role can use, for /help."""
    if role == "coordinator":
        return COORDINATOR_COMMANDS
    if role == "member":
        return MEMBER_COMMANDS
    return [pair for pair in MEMBER_COMMANDS if pair[0] in STRANGER_COMMANDS]


def _commands(pairs: list[tuple[str, str]], lang: str) -> list[BotCommand]:
    t = Text(lang)
    return [BotCommand(name, t.gettext(description)) for name, description in pairs]


async def publish_default(bot: Bot, default_language: str) -> None:
    """Members' menu for everyone: one list per language, and the default language for others."""
    try:
        for lang in LANGUAGES:
            await bot.set_my_commands(_commands(MEMBER_COMMANDS, lang),
                                      scope=BotCommandScopeDefault(), language_code=lang)
        await bot.set_my_commands(_commands(MEMBER_COMMANDS, default_language),
                                  scope=BotCommandScopeDefault())
    except TelegramError:
        log.warning("commands.publish_failed scope=default")


async def publish_for_coordinator(bot: Bot, chat_id: int, language: str) -> None:
    """A coordinator's own menu, in their private chat (possible once they have /start-ed)."""
    try:
        await bot.set_my_commands(_commands(COORDINATOR_COMMANDS, language),
                                  scope=BotCommandScopeChat(chat_id))
    except TelegramError:
        log.warning("commands.publish_failed scope=coordinator")

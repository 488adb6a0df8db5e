"""/start and /help: the person becomes reachable (rule P) and learns what the bot does for them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.commands import commands_for, publish_for_coordinator
from bot.i18n import Text
from bot.services.shared import people
from bot.services.shared.roles import Role
from handlers.membership import registration
from handlers.shared.common import Here, here, reply


def _welcome(t: Text) -> str:
    return t.tr(
        "<b>Hello!</b> I am the coalition's bot. I help member organisations learn fast about new "
        "laws and regulations that threaten civic space, answer alerts, agree on priorities and "
        "act together.\n\nYou can now receive messages from me. Send /help to see what you can do."
    )


def _group_hello(t: Text) -> str:
    return t.tr(
        "<b>Hello!</b> I am the coalition's bot. In this group I post alerts, polls, reminders and "
        "digests for your organisation. Send /help to see what you can do."
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not where.private:
        await reply(update, where, _group_hello)
        return
    user = update.effective_user
    assert user is not None
    async with where.rt.db.transaction() as session:
        await people.record_start(session, where.user_id, user.language_code, where.rt.clock.now())
    if where.role is Role.COORDINATOR:
        await publish_for_coordinator(context.bot, where.chat_id, where.t.lang)
    if context.args and await registration.start_payload(update, context, where, context.args[0]):
        return
    await reply(update, where, _welcome)


def _help(where: Here) -> object:
    def build(t: Text) -> str:
        lines = [
            t.tr("<b>What this bot does</b>"),
            t.tr(
                "The coalition's coordinators send alerts about new laws and regulations to the "
                "member organisations they concern; members answer them, vote on priorities, and "
                "get reminders of hearings and deadlines and a regular digest."
            ),
            "",
            t.tr("<b>Commands</b>"),
            *(
                f"/{name} — {t.gettext(description)}"
                for name, description in commands_for(where.role)
            ),
        ]
        if where.role is Role.COORDINATOR:
            lines += [
                "",
                t.tr(
                    "You are a <b>coordinator</b>: the coordination commands are in the "
                    "menu of your private chat with me."
                ),
            ]
        elif where.role is Role.STRANGER:
            lines += [
                "",
                t.tr(
                    "Your organisation is not registered yet: send /register in a "
                    "private chat with me, or open the invitation link you received."
                ),
            ]
        if not where.private:
            lines += [
                "",
                t.tr("In groups, only the group's admins can change its language and time zone."),
            ]
        return "\n".join(lines)

    return build


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    await reply(update, where, _help(where))  # type: ignore[arg-type]

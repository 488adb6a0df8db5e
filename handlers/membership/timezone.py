"""/timezone: the zone each chat's dates are shown in; a guided flow kept in the database (rule C).

Without an argument it offers the zones the coalition's chats already use (the most used first),
then the default one, as buttons named by their city in the reader's language, plus "Other…",
which asks for a city, a country or an IANA name as free text (bot/zones.py finds it: "Guatemala",
"Ciudad de México", "Madrid", "Bogotá"): in a private chat the next message answers, in a group
a ForceReply prompt (privacy mode only lets replies to the bot through). A name that fits several
zones is answered with their buttons. The zone chosen is named as a place, with its time now.
"""

from __future__ import annotations

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot import dates, zones
from bot.i18n import Text
from bot.services.shared import chats, conversations
from handlers.membership.language import refuse
from handlers.shared.buttons import Owner, on
from handlers.shared.callback_data import AskTimezoneName, SetTimezone, encode
from handlers.shared.common import Here, here, may_change_chat_settings, reply, settings_press
from handlers.shared.steps import step

FLOW = "timezone"
STEP_NAME = "name"
OFFERED = 8


def zone_buttons(where: Here, offered: list[str]) -> list[list[InlineKeyboardButton]]:
    lang = where.t.lang
    buttons = [InlineKeyboardButton(zones.city(z, lang), callback_data=encode(SetTimezone(z)))
               for z in offered]
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


async def keyboard(where: Here) -> InlineKeyboardMarkup:
    async with where.rt.db.reader() as session:
        used = await chats.zones_in_use(session, OFFERED)
    offered = list(dict.fromkeys([*used, where.rt.settings.timezone]))[:OFFERED]
    rows = zone_buttons(where, offered)
    rows.append([InlineKeyboardButton(where.label(lambda t: t.tr("Other…")),
                                      callback_data=encode(AskTimezoneName()))])
    return InlineKeyboardMarkup(rows)


async def timezone_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await may_change_chat_settings(update, context, where):
        await refuse(update, where)
        return
    if context.args:
        await set_zone(update, where, " ".join(context.args))
        return
    await reply(update, where, lambda t: t.tr(
        "This chat's time zone is <b>{zone}</b> (now {time}). Choose another:",
        zone=dates.zone_name(where.timezone, t.lang), time=t.moment(where.rt.clock.now())),
        markup=await keyboard(where))


async def set_zone(update: Update, where: Here, text: str) -> bool:
    """Find the zone the words name and save it; several are offered as buttons, none gets a
    clear reply, and both change nothing."""
    found = zones.find(text)
    if not found:
        await reply(update, where, lambda t: t.tr(
            "“{name}” is not a time zone I know, nor a city or a country I can place. Type a "
            "city or a country (Guatemala, Ciudad de México, Madrid), or a name like "
            "America/Mexico_City, or /cancel.", name=text[:64]))
        return False
    if len(found) > 1:
        await reply(update, where, lambda t: t.tr("Which one?"),
                    markup=InlineKeyboardMarkup(zone_buttons(where, found)))
        return True
    zone = found[0]
    async with where.rt.db.transaction() as session:
        await chats.set_timezone(session, where.chat_id, where.chat_type, zone,
                                 where.rt.clock.now())
        await conversations.finish(session, where.chat_id, where.user_id)
    where.timezone = zone
    await reply(update, where, lambda t: t.tr(
        "Done: dates in this chat are now shown in <b>{zone}</b> (now {time}).",
        zone=dates.zone_name(zone, t.lang), time=t.moment(where.rt.clock.now())))
    return True


@on(SetTimezone, AskTimezoneName, owner=Owner.DATA)
async def timezone_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          action: SetTimezone | AskTimezoneName) -> None:
    where = await settings_press(update, context)
    if where is None:
        return
    if isinstance(action, SetTimezone):
        await set_zone(update, where, action.zone)
        return
    async with where.rt.db.transaction() as session:
        await conversations.save(session, where.chat_id, where.user_id,
                                 conversations.State(FLOW, STEP_NAME), where.rt.clock.now())
    await ask_name(update, where)


async def ask_name(update: Update, where: Here) -> None:
    def build(t: Text) -> str:
        return t.tr("Type the name of the time zone, a city or a country (Guatemala, Ciudad "
                    "de México, Madrid, America/Mexico_City), or /cancel.")

    if where.private:
        await reply(update, where, build)
    else:
        placeholder = where.label(lambda t: t.tr("Time zone name"))
        await reply(update, where, build,
                    markup=ForceReply(selective=True, input_field_placeholder=placeholder[:64]))


@step(FLOW, STEP_NAME)
async def answer_name(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                      text: str) -> None:
    """The free-text step of the flow; a wrong name asks again and keeps the flow open."""
    if not await set_zone(update, where, text) and not where.private:
        await ask_name(update, where)

"""/timezone: the zone each chat's dates are shown in; a guided flow kept in the database (rule C).

Without an argument it offers the zones of the coalition's country as buttons, plus "Other…",
which asks for an IANA name as free text: in a private chat the next message answers, in a group a
ForceReply prompt (privacy mode only lets replies to the bot through). The flow's state is a row,
so a restart between the question and the answer loses nothing.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import get_global
from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.i18n import Text
from bot.services.shared import chats, conversations
from handlers.membership.language import refuse
from handlers.shared.buttons import Owner, on
from handlers.shared.callback_data import AskTimezoneName, SetTimezone, encode
from handlers.shared.common import Here, here, may_change_chat_settings, reply, settings_press
from handlers.shared.steps import step

FLOW = "timezone"
STEP_NAME = "name"


def region_zones(default_zone: str) -> list[str]:
    """The zones of the country the default zone belongs to (Babel's CLDR data)."""
    territory = get_global("zone_territories").get(default_zone)
    zones = list(get_global("territory_zones").get(territory, [])) if territory else []
    return sorted(zones or [default_zone])


def valid_zone(name: str) -> str | None:
    name = name.strip()
    if not name or len(name) > 64 or ".." in name or name.startswith("/"):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _city(zone: str) -> str:
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def keyboard(where: Here) -> InlineKeyboardMarkup:
    zones = region_zones(where.rt.settings.timezone)
    rows = [[InlineKeyboardButton(_city(z), callback_data=encode(SetTimezone(z)))
             for z in zones[i:i + 3]] for i in range(0, len(zones), 3)]
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
        zone=where.timezone, time=t.moment(where.rt.clock.now())),
        markup=keyboard(where))


async def set_zone(update: Update, where: Here, text: str) -> bool:
    """Validate and save; a bad name gets a clear reply and changes nothing."""
    zone = valid_zone(text)
    if zone is None:
        await reply(update, where, lambda t: t.tr(
            "“{name}” is not a time zone I know. Use a name like America/Mexico_City or "
            "Europe/Madrid (see the list at "
            "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones), or /cancel.",
            name=text[:64]))
        return False
    async with where.rt.db.transaction() as session:
        await chats.set_timezone(session, where.chat_id, where.chat_type, zone,
                                 where.rt.clock.now())
        await conversations.finish(session, where.chat_id, where.user_id)
    where.timezone = zone
    await reply(update, where, lambda t: t.tr(
        "Done: dates in this chat are now shown in <b>{zone}</b> (now {time}).",
        zone=zone, time=t.moment(where.rt.clock.now())))
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
        return t.tr("Type the name of the time zone, like America/Mexico_City or Europe/Madrid "
                    "(or /cancel).")

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

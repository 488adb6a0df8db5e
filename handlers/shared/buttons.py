"""Every button press arrives here: decode the data once, check the press against its route's
declaration, then hand the typed action to the handler its module registered with `@on`.

Each route declares how it knows the pressed message is its own (`owner=`), so a press forged by
a modified client (any data, any message id of a chat its user is in) cannot act through a
message the bot never showed it on:

- `Owner.ITS_MESSAGE`: the route acts on what the pressed message shows (a confirmation, a page,
  a setting's buttons). The press counts only when its data is one of that message's buttons
  (`handlers/shared/pressed.py`); any other is answered as no longer valid and changes nothing.
- `Owner.DATA`: the data alone says what is pressed (an answer under an alert copy, a step of the
  presser's own draft) and the handler re-checks who pressed it. Such a route may still redraw
  the pressed message, but only through `pressed.redraw*`, which refuse a message that is not its
  own, so a forged press never changes someone else's message.

Each route also declares who may press it (`who=`): `Who.COORDINATOR` and `Who.CONTACT` are
checked here, before anything else, with the same refusal everywhere; a route whose rule depends
on what is pressed (the contacts of *this* organisation) checks that in its handler.

`tests/test_button_routes.py` presses every registered route on an alert copy as a stranger and
as another organisation's contact, and fails a route that declares no owner.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.services.shared import roles
from bot.services.shared.roles import Role
from handlers.shared import callback_data as cd
from handlers.shared.common import Here, forget_for_handler, here, keep_for_handler
from handlers.shared.pressed import on_its_message

log = logging.getLogger(__name__)

ButtonHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Any], Awaitable[None]]


class Owner(StrEnum):
    ITS_MESSAGE = "its message"
    DATA = "data"


class Who(StrEnum):
    """Who may press a route's buttons (rule R), checked before the handler runs."""

    ANYONE = "anyone"
    COORDINATOR = "coordinator"
    CONTACT = "contact"  # a contact of an active member organisation, coordinator or not


@dataclass(frozen=True)
class Route:
    handler: ButtonHandler
    owner: Owner
    who: Who = Who.ANYONE


async def refusal(who: Who, where: Here) -> str | None:
    """Why this person may not press a route declared for `who`, or None when they may."""
    if who is Who.COORDINATOR and (where.anonymous or where.role is not Role.COORDINATOR):
        return where.t.tr("Only coordinators can do this.")
    if who is Who.CONTACT:
        contact = where.role is Role.MEMBER
        if where.role is Role.COORDINATOR:  # a coordinator changes an organisation only as its
            async with where.rt.db.reader() as session:  # contact (rule A)
                contact = await roles.is_active_contact(session, where.user_id)
        if not contact:
            return where.t.tr("Only the contacts of an active member organisation can do this.")
    return None


ROUTES: dict[type, Route] = {}


def on(*classes: type, owner: Owner, who: Who = Who.ANYONE
       ) -> Callable[[ButtonHandler], ButtonHandler]:
    """Route presses of these actions to the handler; `owner` is how it knows its message,
    `who` who may press it."""
    if not isinstance(owner, Owner):
        raise TypeError("@on needs owner=Owner.ITS_MESSAGE or Owner.DATA")
    if not isinstance(who, Who):
        raise TypeError("@on's who= is a Who")

    def register(handler: ButtonHandler) -> ButtonHandler:
        for cls in classes:
            if cls in ROUTES:
                raise ValueError(f"{cls.__name__} already has a route")
            ROUTES[cls] = Route(handler, owner, who)
        return handler

    return register


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    action = cd.decode(query.data)
    route = ROUTES.get(type(action)) if action is not None else None
    where = None
    if route is not None and route.who is not Who.ANYONE:
        where = await here(update, context)
        refused = await refusal(route.who, where)
        if refused is not None:
            log.info("button.refused who=%s", route.who.value)
            await query.answer(refused, show_alert=True)
            return
    if route is None or (route.owner is Owner.ITS_MESSAGE and not on_its_message(query)):
        log.info("button.unknown" if route is None else "button.foreign_message")
        where = where or await here(update, context)
        await query.answer(where.t.tr("This button is no longer valid."), show_alert=False)
        return
    if where is not None:
        keep_for_handler(update, where)
    try:
        await route.handler(update, context, action)
    finally:
        forget_for_handler(update)

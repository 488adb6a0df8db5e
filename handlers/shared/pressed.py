"""The pressed message: how a button handler knows it is its own, and the one way to change it.

Why a check at all: a modified Telegram client can send any callback data with any message id of
a chat its user is in, so "the message the button was pressed on" may be an alert copy, another
person's confirmation or another organisation's profile. Telegram does put the real message in
the callback query, with its buttons; a press is on its own message only when the pressed data
is one of that message's buttons (the bot showed exactly this button there). An inaccessible
message (older than 48 hours, or gone) proves nothing, so it is not ours to change either.

`redraw` and `redraw_buttons` are the only ways a handler changes the pressed message: they
refuse a foreign one and skip an edit that would change nothing (Telegram answers an identical
edit with "message is not modified", an error, so the bot never asks for one).
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

log = logging.getLogger(__name__)
_TAG = re.compile(r"<[^>]*>")


def on_its_message(query: CallbackQuery) -> bool:
    """Whether the pressed data is one of the buttons of the (accessible) pressed message."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None or query.data is None:
        return False
    return any(button.callback_data == query.data
               for row in message.reply_markup.inline_keyboard for button in row)


def _markup_dict(markup: InlineKeyboardMarkup | None) -> Any:
    return markup.to_dict() if markup is not None else None


async def redraw(query: CallbackQuery, text: str, parse_mode: str = ParseMode.HTML,
                 reply_markup: InlineKeyboardMarkup | None = None) -> bool:
    """Replace the pressed message's text (and buttons); False when it is not ours to change.

    The same content again (a double tap, a replayed update) sends nothing."""
    if not on_its_message(query):
        log.info("button.foreign_message")
        return False
    message = query.message
    assert isinstance(message, Message)
    if _same_text(message, text, parse_mode) and \
            _markup_dict(message.reply_markup) == _markup_dict(reply_markup):
        return True
    try:
        await query.edit_message_text(text, parse_mode=parse_mode, reply_markup=reply_markup)
    except BadRequest as exc:  # a race with another edit of the same content
        if "not modified" not in exc.message:
            raise
    return True


async def redraw_buttons(query: CallbackQuery, reply_markup: InlineKeyboardMarkup | None) -> bool:
    """Replace only the pressed message's buttons; False when it is not ours to change."""
    if not on_its_message(query):
        log.info("button.foreign_message")
        return False
    message = query.message
    assert isinstance(message, Message)
    if _markup_dict(message.reply_markup) == _markup_dict(reply_markup):
        return True
    try:
        await query.edit_message_reply_markup(reply_markup)
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise
    return True


def _same_text(message: Message, text: str, parse_mode: str | None) -> bool:
    """Whether the message already reads `text` (compared as the person reads it: tags off)."""
    if parse_mode == ParseMode.HTML:
        text = html.unescape(_TAG.sub("", text))
    return (message.text or "").strip() == text.strip()

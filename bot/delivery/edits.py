"""Edits of messages already sent, as outbox rows (rule D): a correction or a withdrawal changes
every chat's copy through the same engine, paced and reported like any fan-out.

An outbox payload with `edit` = {"message_ids": [...], "stale": "<html>"} replaces the chat's
earlier copy (those message ids, one per part) with the payload's `text`:
- each new part edits the old part at its place (the buttons go on the last part);
- a new part with no old part is sent as a new message;
- an old part with no new part is deleted, or, when Telegram no longer allows it (over 48 hours
  old), edited to the `stale` text (which points to the corrected text);
- a part that can no longer be edited (deleted by the chat's admins) is sent as a new message
  instead — the correction reaches the chat anyway;
- "message is not modified" is success.
Each request returns the message id that now carries that part (0: none, a deleted or stale
part), so the row's `message_ids` are the chat's current copy, for the next correction.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.delivery.split import split_html

EDIT = "editMessageText"
DELETE = "deleteMessage"
METHODS = (EDIT, DELETE)
GONE_EDIT = ("message to edit not found", "message can't be edited",
             "there is no text in the message to edit")


def plan(payload: dict[str, Any], markup: Any) -> list[tuple[str, dict[str, Any]]]:
    """The requests that turn a chat's earlier copy into `payload["text"]`."""
    edit = payload["edit"]
    old = [int(i) for i in edit.get("message_ids") or []]
    parts = split_html(payload.get("text") or "")
    preview = {"is_disabled": bool(payload.get("disable_preview", True))}
    protect = bool(payload.get("protect_content"))
    requests: list[tuple[str, dict[str, Any]]] = []
    for number, part in enumerate(parts):
        kwargs: dict[str, Any] = {
            "text": part, "parse_mode": ParseMode.HTML, "link_preview_options": preview,
            "reply_markup": markup if number == len(parts) - 1 else None}
        if number < len(old):
            requests.append((EDIT, {**kwargs, "message_id": old[number], "_protect": protect}))
        else:
            requests.append(("sendMessage", {**kwargs, **({"protect_content": True}
                                                          if protect else {})}))
    for message_id in old[len(parts):]:
        requests.append((DELETE, {"message_id": message_id, "_stale": edit.get("stale")}))
    return requests


async def run(bot: Bot, method: str, chat_id: int, kwargs: dict[str, Any]) -> int:
    """One edit or deletion; the message id now carrying the part (0: none)."""
    if method == EDIT:
        protect = kwargs.get("_protect")
        params = {k: v for k, v in kwargs.items() if not k.startswith("_")}
        try:
            await bot._post(EDIT, {"chat_id": chat_id, **params})
            return int(params["message_id"])
        except BadRequest as exc:
            reason = exc.message.lower()
            if "not modified" in reason:
                return int(params["message_id"])
            if not any(text in reason for text in GONE_EDIT):
                raise
        params.pop("message_id")  # the old copy is gone: the part is sent anew
        if protect:
            params["protect_content"] = True
        result = await bot._post("sendMessage", {"chat_id": chat_id, **params})
        return int(result["message_id"])
    message_id = int(kwargs["message_id"])
    try:
        await bot._post(DELETE, {"chat_id": chat_id, "message_id": message_id})
        return 0
    except BadRequest as exc:
        reason = exc.message.lower()
        if "not found" in reason:
            return 0
        if "can't be deleted" not in reason or not kwargs.get("_stale"):
            raise
    try:  # over 48 hours old: point to the corrected text instead
        await bot._post(EDIT, {"chat_id": chat_id, "message_id": message_id,
                               "text": kwargs["_stale"], "parse_mode": ParseMode.HTML})
    except BadRequest as exc:
        if not any(text in exc.message.lower() for text in (*GONE_EDIT, "not modified")):
            raise
    return 0

"""Counted nouns several messages share: plural pieces that a translated frame puts together.

A message with two counts ("{orgs} in {chats}") takes one piece per count, so each noun agrees
with its own number in every language. Pieces are translations (trusted HTML), hence `Safe`.
"""

from __future__ import annotations

from bot.i18n import Safe, Text


def orgs(t: Text, n: int, *, bold: bool = False) -> Safe:
    if bold:
        return Safe(t.tr_plural("<b>{n}</b> organisation", "<b>{n}</b> organisations", n))
    return Safe(t.tr_plural("{n} organisation", "{n} organisations", n))


def chats(t: Text, n: int, *, bold: bool = False) -> Safe:
    if bold:
        return Safe(t.tr_plural("<b>{n}</b> chat", "<b>{n}</b> chats", n))
    return Safe(t.tr_plural("{n} chat", "{n} chats", n))

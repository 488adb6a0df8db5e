"""Translations (gettext catalogues through Babel), language per chat, and Babel formatting.

Message ids are English; Spanish is the default. Every text a user reads is built with a `Text`
bound to one language, so the same code renders `es`, `en`, or `both` (Spanish, then English).
Values put into a message are HTML-escaped here, once, because every message is sent as HTML.
"""

from __future__ import annotations

import html
import io
import logging
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from bot import dates

log = logging.getLogger(__name__)

LANGUAGES: tuple[str, ...] = ("es", "en")
CHOICES: tuple[str, ...] = ("es", "en", "both")
Choice = Literal["es", "en", "both"]
DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
BOTH_SEPARATOR = "\n\n— — —\n\n"


def N_(message: str) -> str:
    """Mark a text for extraction without translating it yet (e.g. command descriptions)."""
    return message


class Safe(str):
    """A value already escaped or deliberately HTML (our own markup); `Text` will not escape it."""

    __slots__ = ()


def escape(value: object) -> str:
    if isinstance(value, Safe):
        return value
    return html.escape(str(value), quote=False)


@lru_cache(maxsize=8)
def _translations(lang: str) -> NullTranslations:
    """Load a compiled catalogue, or compile the `.po` in memory when the `.mo` is missing/stale."""
    folder = LOCALES_DIR / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    if po.exists():
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(buffer, domain=DOMAIN)
    log.warning("i18n.catalogue_missing lang=%s", lang)
    return NullTranslations()


def normalise(code: str | None) -> str | None:
    """Map a Telegram `language_code` (e.g. 'es-MX', 'en') to one of ours, or None."""
    if not code:
        return None
    base = code.split("-", 1)[0].split("_", 1)[0].lower()
    return base if base in LANGUAGES else None


class Text:
    """Translate and format for one language: `t.tr("Hello, {name}", name=...)` escapes `name`.

    The translating methods are named `tr` and `tr_plural`, names no other code in `bot/` and
    `handlers/` uses, because pybabel finds texts by name alone: a keyword that is also a loop
    variable or a dictionary (`t["x"]`) makes it extract what is not a text.
    """

    def __init__(self, lang: str, timezone: str = "UTC") -> None:
        self.lang = lang if lang in LANGUAGES else LANGUAGES[0]
        self.timezone = timezone
        self.locale = Locale.parse(self.lang)
        self._t = _translations(self.lang)

    def tr(self, message: str, **values: Any) -> str:
        text = self._t.gettext(message)
        if values:
            text = text.format(**{k: escape(v) for k, v in values.items()})
        return text

    def gettext(self, message: str) -> str:
        return self._t.gettext(message)

    def tr_plural(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **{k: escape(v) for k, v in values.items()})

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def moment(self, value: datetime, with_zone: bool = False) -> str:
        """The one way a moment reads (bot/dates.py): "jue 10 dic 2026, 10:00", with the zone as
        a place when others elsewhere act on it."""
        return dates.moment(value, self.timezone, str(self.locale), with_zone=with_zone)

    def day(self, value: datetime | date) -> str:
        """A day alone ("jue 10 dic 2026"), for a week's label or a date without its hour."""
        return dates.day(value, self.timezone, str(self.locale))

    def relative(self, value: datetime, now: datetime) -> str:
        """How far `value` is from `now`, in words: "in 3 days", "dentro de 2 horas"."""
        return dates.relative(value, now, str(self.locale))

    def duration(self, seconds: float) -> str:
        return dates.duration(seconds, str(self.locale))


def render(choice: str, timezone: str, build: Callable[[Text], str]) -> str:
    """Render a message for a chat's language choice: one language, or Spanish then English."""
    if choice == "both":
        return BOTH_SEPARATOR.join(build(Text(lang, timezone)) for lang in LANGUAGES)
    return build(Text(choice, timezone))


def label(choice: str, build: Callable[[Text], str]) -> str:
    """A button label: short, so `both` shows 'es / en' on one line."""
    if choice == "both":
        return " / ".join(build(Text(lang)) for lang in LANGUAGES)
    return build(Text(choice))


def language_name(code: str, in_lang: str) -> str:
    """The name of a language in another (or the same) language, capitalised: 'Español'."""
    return Locale.parse(code).get_display_name(Locale.parse(in_lang)).capitalize()

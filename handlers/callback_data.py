"""Callback data: a short versioned string, decoded here, in one place, into a typed action.

Format `v1:<action>[:<argument>]`, at most 64 bytes (Telegram's limit). Data is never trusted
for identity: the presser comes from Telegram, and every button handler re-checks their role.
Anything that does not decode (old versions, forged or malformed data) becomes `None`.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

from bot.i18n import CHOICES

VERSION = "v1"
MAX_BYTES = 64


@dataclass(frozen=True)
class SetLanguage:
    choice: str


@dataclass(frozen=True)
class SetTimezone:
    zone: str


@dataclass(frozen=True)
class AskTimezoneName:
    """The 'Other…' button: the person will type an IANA name."""


Action = SetLanguage | SetTimezone | AskTimezoneName


def encode(action: Action) -> str:
    match action:
        case SetLanguage(choice):
            data = f"{VERSION}:lang:{choice}"
        case SetTimezone(zone):
            data = f"{VERSION}:tz:{zone}"
        case AskTimezoneName():
            data = f"{VERSION}:tzask"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def decode(data: str | None) -> Action | None:
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":", 2)
    if parts[0] != VERSION or len(parts) < 2:
        return None
    name, arg = parts[1], parts[2] if len(parts) == 3 else None
    if name == "lang" and arg in CHOICES:
        return SetLanguage(arg)
    if name == "tz" and arg is not None and arg in _zones():
        return SetTimezone(arg)
    if name == "tzask" and arg is None:
        return AskTimezoneName()
    return None


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES

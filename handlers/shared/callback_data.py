"""Callback data: a short versioned string, decoded here, in one place, into a typed action.

Format `v1:<name>[:<arg>[:<arg>...]]`, at most 64 bytes (Telegram's limit). Each action is a
frozen dataclass registered with `@action("name")`; its fields are ints or strings, in order,
and an optional `valid()` says whether decoded values make sense. Data is never trusted for
identity: the presser comes from Telegram, and every button handler re-checks their role.
Anything that does not decode (old versions, forged or malformed data) becomes `None`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar
from zoneinfo import available_timezones

from bot.i18n import CHOICES
from bot.numbers import whole_number

VERSION = "v1"
MAX_BYTES = 64
T = TypeVar("T")

_BY_NAME: dict[str, type] = {}
_NAME_OF: dict[type, str] = {}


def action(name: str) -> Any:
    """Register a dataclass as a button action under a short name."""

    def register(cls: type[T]) -> type[T]:
        if name in _BY_NAME or ":" in name:
            raise ValueError(f"bad or duplicate action name {name!r}")
        _BY_NAME[name], _NAME_OF[cls] = cls, name
        return cls

    return register


def encode(value: Any) -> str:
    name = _NAME_OF[type(value)]
    args = [str(getattr(value, f.name)) for f in dataclasses.fields(value)]
    data = ":".join([VERSION, name, *args])
    if len(data.encode()) > MAX_BYTES or any(":" in a for a in args):
        raise ValueError("callback data over 64 bytes or with a ':' in an argument")
    return data


def decode(data: str | None) -> Any | None:
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != VERSION or parts[1] not in _BY_NAME:
        return None
    cls = _BY_NAME[parts[1]]
    fields = dataclasses.fields(cls)
    if len(parts) - 2 != len(fields):
        return None
    values: dict[str, Any] = {}
    for f, raw in zip(fields, parts[2:], strict=True):
        if f.type in ("int", int):
            number = whole_number(raw, signed=True)
            if number is None:
                return None
            values[f.name] = number
        else:
            values[f.name] = raw
    decoded = cls(**values)
    check = getattr(decoded, "valid", None)
    if check is not None and not check():
        return None
    return decoded


@action("lang")
@dataclasses.dataclass(frozen=True)
class SetLanguage:
    choice: str

    def valid(self) -> bool:
        return self.choice in CHOICES


@action("tz")
@dataclasses.dataclass(frozen=True)
class SetTimezone:
    zone: str

    def valid(self) -> bool:
        return self.zone in _zones()


@action("tzask")
@dataclasses.dataclass(frozen=True)
class AskTimezoneName:
    """The 'Other…' button: the person will type an IANA name."""


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES

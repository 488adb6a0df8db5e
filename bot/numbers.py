"""Whole numbers that people type or that button data carries: ASCII digits only.

Why one place: `str.isdigit()` is true for `²` or `①`, which `int()` refuses, so a check with it
followed by `int()` is a crash anyone can type (or forge in callback data). Every parser of a
typed or decoded number goes through `whole_number`; anything else is refused as bad input.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"-?[0-9]+")


def whole_number(raw: str, *, signed: bool = False, max_digits: int = 19) -> int | None:
    """`raw` as an int when it is only ASCII digits (a leading '-' if `signed`), at most
    `max_digits` of them; None otherwise (no surrounding blanks, no '+', no other scripts)."""
    pattern = _SIGNED if signed else _DIGITS
    if not pattern.fullmatch(raw) or len(raw.lstrip("-")) > max_digits:
        return None
    return int(raw)


def is_whole_number(raw: str, *, signed: bool = False) -> bool:
    return whole_number(raw, signed=signed) is not None

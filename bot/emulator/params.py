"""Telegram's leniency: form strings coerced by each field's declared type, plausible answers.

PTB sends ints as ``"123"``, booleans as ``"true"`` and nested values as JSON strings; Telegram
reads each by the field's type, and so does the emulator before the strict check and the method
run. Methods that are not emulated get a plausible answer built from ``api.json``'s return type.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

_INT = re.compile(r"-?\d+")
_PRIMITIVES = {"Integer", "String", "Boolean", "Float", "True", "InputFile"}


@cache
def _api() -> dict[str, Any]:
    raw = resources.files("bot.emulator").joinpath("data/api.json").read_text("utf-8")
    return json.loads(raw)


@cache
def field_types(method: str) -> dict[str, tuple[str, ...]]:
    """``{field: types}`` for a canonical method name (empty when unknown)."""
    m = _api()["methods"].get(method)
    if m is None:
        return {}
    return {f["name"]: tuple(f["types"]) for f in m.get("fields", [])}


def returns(method: str) -> tuple[str, ...]:
    m = _api()["methods"].get(method)
    return tuple(m.get("returns", ())) if m else ()


def coerce(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Form strings to the declared types, in place; values that do not parse stay strings."""
    types = field_types(method)
    for key, value in params.items():
        if not isinstance(value, str):
            continue
        declared = types.get(key)
        if not declared:
            continue
        params[key] = _coerce_one(value, declared)
    return params


def _coerce_one(value: str, declared: tuple[str, ...]) -> Any:
    if "Integer" in declared and _INT.fullmatch(value.strip()):
        return int(value)
    if "Float" in declared:
        try:
            return float(value)
        except ValueError:
            pass
    if "Boolean" in declared or "True" in declared:
        low = value.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
    if "String" in declared or "InputFile" in declared:
        return value
    stripped = value.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def plausible(method: str, depth: int = 0) -> Any:
    """A minimal answer of the method's declared return type."""
    ret = returns(method)
    if not ret or "Boolean" in ret or "True" in ret:
        return True
    return _minimal(ret[0], depth)


def _minimal(type_name: str, depth: int) -> Any:
    if type_name.startswith("Array of "):
        return []
    if type_name == "Integer":
        return 0
    if type_name == "Float":
        return 0.0
    if type_name in ("Boolean", "True"):
        return True
    if type_name == "String":
        return ""
    t = _api()["types"].get(type_name)
    if t is None or depth > 4:
        return {}
    if t.get("subtypes"):
        return _minimal(t["subtypes"][0], depth + 1)
    out: dict[str, Any] = {}
    for f in t.get("fields", []):
        if not f.get("required"):
            continue
        name = f["name"]
        if name == "type" or name == "status":
            out[name] = _constant(f) or ""
            continue
        out[name] = _minimal(f["types"][0], depth + 1)
    return out


def _constant(field: dict[str, Any]) -> str | None:
    """The fixed value of a discriminator field ("Type of the ..., always “private”")."""
    m = re.search(r"always [“\"]([^”\"]+)[”\"]", field.get("description", ""))
    if m:
        return m.group(1)
    m = re.search(r"[“\"]([a-z_]+)[”\"]", field.get("description", ""))
    return m.group(1) if m else None

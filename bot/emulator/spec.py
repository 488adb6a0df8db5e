"""The Bot API as data: strict checking of requests against ``data/api.json``.

Telegram itself is lenient: it ignores unknown fields and coerces form strings. A bot that relies on
that leniency by accident (a misspelt field, a keyboard button without ``text``) works until the day
it does not, so the emulator answers like Telegram *and* records every request that a strict reading
of the published API would reject. This module is that strict reading. It is consulted on every
request the emulator serves, so everything that can be worked out once (field maps, compiled type
expressions, discriminators of abstract types) is worked out when the spec is loaded.

Values arrive as the server decoded them:

* form-encoded bodies: every value is a ``str``; nested values are JSON strings;
* JSON bodies: values are already typed;
* multipart bodies: uploaded files wrapped in :class:`InputFileValue`, other parts as ``str``.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ApiSpec", "InputFileValue", "Violation"]

_API_JSON = Path(__file__).with_name("data") / "api.json"

_PRIMITIVES = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_FORM_BOOLEANS = frozenset({"true", "false", "1", "0"})
# 'Type of the media, must be photo', 'Type of the reaction, always "emoji"': how api.json names
# the value a subtype's discriminator field must hold.
_DISCRIMINATOR_RE = re.compile(r'(?:must be|always)\s+"?([A-Za-z0-9_]+)"?\s*$')
_ARRAY_PREFIX = "Array of "
# How a subtype's fixed discriminator mismatch is phrased; also how union scoring recognises it.
_WRONG_KIND = "expected the discriminator "


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a request departs from the published API.

    ``field`` is a path into the request (``reply_markup.inline_keyboard[0][1].text``), empty for a
    problem with the method itself; ``problem`` is a short human-readable phrase.
    """

    method: str
    field: str
    problem: str


@dataclass(frozen=True, slots=True)
class InputFileValue:
    """Marker for an uploaded file (a multipart part with a filename).

    The server wraps each uploaded part in one of these so that :meth:`ApiSpec.check` can tell a
    real upload (valid for ``InputFile``) from a string that merely names a file (``file_id``, URL
    or ``attach://<name>``, valid for ``String``).
    """

    content: bytes = b""
    filename: str | None = None
    content_type: str | None = None


class _Ref:
    """A compiled type expression (``Integer``, ``Array of Array of X``, ``BotCommandScope``)."""

    __slots__ = ("inner", "kind", "label", "name")

    def __init__(self, kind: str, name: str, label: str, inner: _Ref | None = None) -> None:
        self.kind = kind  # "prim" | "array" | "object" | "abstract"
        self.name = name  # the primitive or type name; for arrays the element's name
        self.label = label  # the expression as api.json writes it, for messages
        self.inner = inner  # element type of an array


class _Field:
    """A field of a method or object type, with its allowed types compiled."""

    __slots__ = ("accepts_str", "label", "name", "refs", "required", "structured")

    def __init__(self, name: str, refs: tuple[_Ref, ...], required: bool) -> None:
        self.name = name
        self.refs = refs
        self.required = required
        self.label = " or ".join(r.label for r in refs)
        # A form string for a field that takes an object or array is JSON to be decoded once.
        self.structured = tuple(r for r in refs if r.kind != "prim")
        self.accepts_str = any(r.kind == "prim" and r.name == "String" for r in refs)


class _Object:
    """A concrete object type (or a method's parameter list): its fields and the required ones."""

    __slots__ = ("fields", "fixed", "name", "required")

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: dict[str, _Field] = {}
        self.required: tuple[str, ...] = ()
        # (field, value) a subtype of an abstract type must carry, e.g. ("type", "photo").
        self.fixed: tuple[str, str] | None = None


class _Abstract:
    """An abstract type such as ``BotCommandScope``: a choice among subtypes.

    Object subtypes are picked by their discriminator field (``type``, ``status``, ``source``) when
    api.json declares one; ``others`` are non-object alternatives (``RichText`` may be a String).
    """

    __slots__ = ("by_value", "discriminator", "name", "objects", "others")

    def __init__(self, name: str) -> None:
        self.name = name
        self.discriminator: str | None = None
        self.by_value: dict[str, tuple[str, ...]] = {}
        self.objects: tuple[str, ...] = ()
        self.others: tuple[_Ref, ...] = ()


def _describe(value: Any) -> str:
    """Name a received value in a violation message without dumping a whole payload."""
    if isinstance(value, InputFileValue):
        return "an uploaded file"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return type(value).__name__


def _prim_ok(name: str, value: Any, top: bool) -> bool:
    """Whether ``value`` is acceptable for a primitive type, with Telegram's coercions.

    Telegram converts form values from strings, and its JSON reader accepts numbers written as
    strings (and numbers where a String is expected), but not strings for a nested Boolean.
    """
    if name == "String":
        if isinstance(value, str):
            return True
        if isinstance(value, bool):
            return top
        return isinstance(value, int | float)
    if name == "Integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        return isinstance(value, str) and _INT_RE.fullmatch(value) is not None
    if name == "Boolean":
        if isinstance(value, bool):
            return True
        return top and isinstance(value, str) and value.lower() in _FORM_BOOLEANS
    if name == "Float":
        if isinstance(value, bool):
            return False
        if isinstance(value, int | float):
            return True
        return isinstance(value, str) and _FLOAT_RE.fullmatch(value) is not None
    if name == "InputFile":
        return isinstance(value, InputFileValue)
    return False


class ApiSpec:
    """The Bot API loaded from api.json, with per-method field maps precomputed for fast checks."""

    def __init__(self, data: dict[str, Any]) -> None:
        """Compile ``data`` (api.json's structure) into lookup tables; use :meth:`load` normally."""
        self.version: str = str(data.get("version", ""))
        raw_types: dict[str, Any] = data.get("types", {})
        raw_methods: dict[str, Any] = data.get("methods", {})
        self._refs: dict[str, _Ref] = {}
        self._objects: dict[str, _Object] = {}
        self._abstracts: dict[str, _Abstract] = {}
        # Objects first (shells), so that field compilation can refer to any type by name.
        for name, raw in raw_types.items():
            if "subtypes" in raw:
                self._abstracts[name] = _Abstract(name)
            else:
                self._objects[name] = _Object(name)
        for name, raw in raw_types.items():
            if name in self._objects:
                self._fill_object(self._objects[name], raw.get("fields", []))
        for name, raw in raw_types.items():
            if name in self._abstracts:
                self._fill_abstract(self._abstracts[name], raw["subtypes"], raw_types)
        self._methods: dict[str, _Object] = {}
        self._returns: dict[str, list[str]] = {}
        self._lower: dict[str, str] = {}
        for name, raw in raw_methods.items():
            params = _Object(name)
            self._fill_object(params, raw.get("fields", []))
            self._methods[name] = params
            self._returns[name] = list(raw.get("returns", []))
            self._lower[name.lower()] = name
        self.method_names: frozenset[str] = frozenset(self._methods)

    @classmethod
    def load(cls) -> ApiSpec:
        """The spec of the bundled ``data/api.json``, parsed once per process."""
        return _load_bundled()

    # -- compilation -------------------------------------------------------------------------

    def _ref(self, expr: str) -> _Ref:
        """Compile a type expression once; the same string always yields the same ``_Ref``."""
        ref = self._refs.get(expr)
        if ref is not None:
            return ref
        if expr.startswith(_ARRAY_PREFIX):
            inner = self._ref(expr[len(_ARRAY_PREFIX) :])
            ref = _Ref("array", inner.name, expr, inner)
        elif expr in _PRIMITIVES:
            ref = _Ref("prim", expr, expr)
        elif expr in self._abstracts:
            ref = _Ref("abstract", expr, expr)
        elif expr in self._objects:
            ref = _Ref("object", expr, expr)
        else:
            raise ValueError(f"api.json refers to an undefined type {expr!r}")
        self._refs[expr] = ref
        return ref

    def _fill_object(self, obj: _Object, raw_fields: list[dict[str, Any]]) -> None:
        """Compile an object's (or method's) fields and note the required ones."""
        for raw in raw_fields:
            refs = tuple(self._ref(t) for t in raw["types"])
            obj.fields[raw["name"]] = _Field(raw["name"], refs, bool(raw.get("required")))
        obj.required = tuple(n for n, f in obj.fields.items() if f.required)

    def _fill_abstract(
        self, abstract: _Abstract, subtypes: list[str], raw_types: dict[str, Any]
    ) -> None:
        """Split subtypes into objects and other alternatives; find the discriminator field.

        The discriminator is the first field that every object subtype has and whose description
        fixes its value ("must be chat", 'always "emoji"'); ``InputMessageContent`` has none, and
        its subtypes are then tried in order. Each object subtype also remembers its fixed value, so
        that a photo is not mistaken for an ``InputMediaAudio`` where a method accepts either.
        """
        objects = tuple(s for s in subtypes if s in self._objects)
        abstract.objects = objects
        abstract.others = tuple(self._ref(s) for s in subtypes if s not in self._objects)
        if not objects:
            return
        raw_by_type = {name: raw_types[name].get("fields", []) for name in objects}
        for candidate in raw_by_type[objects[0]]:
            field_name = candidate["name"]
            by_value: dict[str, list[str]] = {}
            for sub in objects:
                raw = next((f for f in raw_by_type[sub] if f["name"] == field_name), None)
                match = _DISCRIMINATOR_RE.search(raw["description"]) if raw else None
                if match is None:
                    break
                by_value.setdefault(match.group(1), []).append(sub)
            else:
                abstract.discriminator = field_name
                abstract.by_value = {v: tuple(s) for v, s in by_value.items()}
                for value, names in by_value.items():
                    for name in names:
                        self._objects[name].fixed = (field_name, value)
                return

    # -- public queries ----------------------------------------------------------------------

    def method_name(self, name: str) -> str | None:
        """The canonical spelling of a method (Telegram matches names case-insensitively)."""
        if name in self._methods:
            return name
        return self._lower.get(name.lower())

    def returns(self, method: str) -> list[str]:
        """What the method returns, as api.json writes it (``["Message"]``, ``["Boolean"]``).

        Empty for an unknown method. Used to make plausible answers for methods not emulated.
        """
        canonical = self.method_name(method)
        return list(self._returns[canonical]) if canonical else []

    def fields(self, method: str) -> dict[str, tuple[str, ...]]:
        """A method's parameters and their allowed types, for tools and error messages."""
        canonical = self.method_name(method)
        if canonical is None:
            return {}
        params = self._methods[canonical].fields
        return {n: tuple(r.label for r in f.refs) for n, f in params.items()}

    def check(self, method: str, params: dict[str, Any]) -> list[Violation]:
        """Every strict violation in one request; an empty list when it is clean.

        Unknown top-level parts that are uploads referenced as ``attach://<name>`` elsewhere in the
        request (``sendMediaGroup``, ``InputMedia*``) are legitimate and not reported.
        """
        canonical = self.method_name(method)
        if canonical is None:
            return [Violation(method, "", "unknown method")]
        spec = self._methods[canonical]
        out: list[Violation] = []
        checker = _Checker(self, canonical, out)
        fields = spec.fields
        for key, value in params.items():
            field = fields.get(key)
            if field is None:
                if isinstance(value, InputFileValue) and _is_attached(key, params):
                    continue
                out.append(Violation(canonical, key, "unknown field"))
                continue
            if value is None:
                continue
            checker.field(value, field, key, top=True)
        for key in spec.required:
            if params.get(key) is None:
                out.append(Violation(canonical, key, "missing required field"))
        return out


class _Checker:
    """One request's walk through its values, collecting violations for one method."""

    __slots__ = ("method", "out", "spec")

    def __init__(self, spec: ApiSpec, method: str, out: list[Violation]) -> None:
        self.spec = spec
        self.method = method
        self.out = out

    def _bad(self, path: str, problem: str) -> None:
        self.out.append(Violation(self.method, path, problem))

    def field(self, value: Any, field: _Field, path: str, top: bool) -> None:
        """Check one field's value against its allowed types (a union when there are several)."""
        refs = field.refs
        if top and isinstance(value, str) and field.structured:
            # Form bodies carry objects and arrays as JSON text; a String alternative wins first.
            if field.accepts_str:
                return
            if any(r.kind == "prim" and _prim_ok(r.name, value, True) for r in refs):
                return
            try:
                value = json.loads(value)
            except ValueError:
                self._bad(path, f"expected {field.label}, got a string that is not valid JSON")
                return
            refs = field.structured
            top = False
        if len(refs) == 1:
            self.value(value, refs[0], path, top)
        else:
            self.union(value, refs, path, top, field.label)

    def union(self, value: Any, refs: tuple[_Ref, ...], path: str, top: bool, label: str) -> None:
        """Accept the value if any alternative accepts it; else report the closest alternative.

        When no alternative even has the right shape (all fail at ``path`` itself), one combined
        "expected A or B" is clearer than the first alternative's complaint.
        """
        trials: list[list[Violation]] = []
        for ref in refs:
            trial: list[Violation] = []
            _Checker(self.spec, self.method, trial).value(value, ref, path, top)
            if not trial:
                return
            if not (len(trial) == 1 and trial[0].field == path and _is_mismatch(trial[0])):
                trials.append(trial)
        if trials:
            self.out.extend(_closest(trials, path))
        else:
            self._bad(path, f"expected {label}, got {_describe(value)}")

    def value(self, value: Any, ref: _Ref, path: str, top: bool) -> None:
        """Check a value against one compiled type."""
        kind = ref.kind
        if kind == "prim":
            if not _prim_ok(ref.name, value, top):
                self._bad(path, f"expected {ref.label}, got {_describe(value)}")
        elif kind == "array":
            if not isinstance(value, list):
                self._bad(path, f"expected {ref.label}, got {_describe(value)}")
                return
            inner = ref.inner
            assert inner is not None
            for i, item in enumerate(value):
                self.value(item, inner, f"{path}[{i}]", False)
        elif kind == "object":
            self.object(value, self.spec._objects[ref.name], path)
        else:
            self.abstract(value, self.spec._abstracts[ref.name], path)

    def object(self, value: Any, obj: _Object, path: str) -> None:
        """Check a JSON object against a concrete type: unknown, missing and mistyped fields."""
        if not isinstance(value, dict):
            self._bad(path, f"expected {obj.name}, got {_describe(value)}")
            return
        fixed = obj.fixed
        if fixed is not None:
            tag = value.get(fixed[0])
            if isinstance(tag, str) and tag != fixed[1]:
                problem = f"{_WRONG_KIND}{fixed[1]!r} for {obj.name}, got {tag!r}"
                self._bad(f"{path}.{fixed[0]}", problem)
        fields = obj.fields
        for key, item in value.items():
            field = fields.get(key)
            sub = f"{path}.{key}"
            if field is None:
                self._bad(sub, "unknown field")
            elif item is not None:
                self.field(item, field, sub, False)
        for key in obj.required:
            if value.get(key) is None:
                self._bad(f"{path}.{key}", "missing required field")

    def abstract(self, value: Any, abstract: _Abstract, path: str) -> None:
        """Check a value against an abstract type by picking the subtype it claims to be."""
        if not isinstance(value, dict):
            if abstract.others:
                self.union(value, abstract.others, path, False, abstract.name)
            else:
                self._bad(path, f"expected {abstract.name}, got {_describe(value)}")
            return
        candidates = abstract.objects
        disc = abstract.discriminator
        if disc is not None:
            tag = value.get(disc)
            if tag is None:
                self._bad(f"{path}.{disc}", "missing required field")
                return
            found = abstract.by_value.get(tag) if isinstance(tag, str) else None
            if found is None:
                known = ", ".join(sorted(abstract.by_value))
                self._bad(f"{path}.{disc}", f"unknown {abstract.name} {disc} {tag!r} ({known})")
                return
            candidates = found
        objects = self.spec._objects
        if len(candidates) == 1:
            self.object(value, objects[candidates[0]], path)
            return
        trials: list[list[Violation]] = []
        for name in candidates:
            trial: list[Violation] = []
            _Checker(self.spec, self.method, trial).object(value, objects[name], path)
            if not trial:
                return
            trials.append(trial)
        self.out.extend(_closest(trials, path))


def _is_mismatch(violation: Violation) -> bool:
    """Whether a violation says the value has the wrong type altogether (not a detail inside)."""
    return violation.problem.startswith("expected")


def _closest(trials: list[list[Violation]], path: str) -> list[Violation]:
    """The failed alternative that fits best.

    Ranked by: values that declare themselves another subtype (``"type": "photo"`` checked as an
    ``InputMediaAudio``), then problems among the object's own keys, then the number of problems.
    So a keyboard with several bad buttons is reported as an ``InlineKeyboardMarkup``, not as a
    ``ForceReply`` that merely has fewer complaints.
    """
    prefix = path + "."

    def shallow(violation: Violation) -> bool:
        rest = violation.field[len(prefix) :] if violation.field.startswith(prefix) else None
        return rest is not None and "." not in rest and "[" not in rest

    def score(trial: list[Violation]) -> tuple[int, int, int]:
        wrong = sum(1 for v in trial if v.problem.startswith(_WRONG_KIND))
        return wrong, sum(1 for v in trial if shallow(v)), len(trial)

    return min(trials, key=score)


def _is_attached(name: str, params: dict[str, Any]) -> bool:
    """Whether an upload part is referenced as ``attach://<name>`` by another value."""
    needle = f"attach://{name}"
    for value in params.values():
        if isinstance(value, str):
            if needle in value:
                return True
        elif isinstance(value, dict | list) and needle in json.dumps(value):
            return True
    return False


@functools.cache
def _load_bundled() -> ApiSpec:
    """Parse the bundled api.json once; the spec is immutable after construction."""
    with _API_JSON.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return ApiSpec(data)

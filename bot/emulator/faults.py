"""Fault injection, changeable while the emulator runs.

Kinds: ``"500"`` / ``"502"`` (refused before applying, with that status), ``"timeout"`` (held for
``hold`` wall seconds, then the connection is dropped; nothing applied), ``"lost"`` (applied, then
the answer is held and the connection dropped: the client times out although the message landed,
which is how duplicates happen), ``"429"`` (refused with "Too Many Requests" and
``parameters.retry_after`` = ``retry_after`` seconds: a 429 storm whatever the rate). Plus
``latency`` on every answer and chats that always answer 403.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

KINDS = ("500", "502", "429", "timeout", "lost")


@dataclass
class FaultRule:
    """One fault: fires with probability ``rate`` on matching requests, at most ``count`` times."""

    kind: str
    rate: float = 1.0
    methods: frozenset[str] | None = None  # lower-case method names; None = every method
    chats: frozenset[int] | None = None
    count: int | None = None
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.count is not None and self.fired >= self.count:
            return False
        if self.methods is not None and method.lower() not in self.methods:
            return False
        if self.chats is not None and chat_id not in self.chats:
            return False
        return self.rate >= 1.0 or self.rng.random() < self.rate

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "rate": self.rate,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "chats": sorted(self.chats) if self.chats is not None else None,
            "count": self.count,
            "fired": self.fired,
        }


class Faults:
    """The fault table the server consults before (and after) applying each request."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.hold: float = 30.0
        self.retry_after: int = 1
        self.latency: float = 0.0
        self.forbidden_chats: set[int] = set()
        self.injected: Counter[str] = Counter()

    def add(
        self,
        kind: str,
        rate: float = 1.0,
        methods: Iterable[str] | None = None,
        chats: Iterable[int] | None = None,
        count: int | None = None,
        seed: int | None = None,
    ) -> FaultRule:
        """Add a fault rule; ``methods`` are Bot API names (any case)."""
        kind = str(kind)
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {KINDS}")
        rule = FaultRule(
            kind=kind,
            rate=float(rate),
            methods=frozenset(m.lower() for m in methods) if methods is not None else None,
            chats=frozenset(int(c) for c in chats) if chats is not None else None,
            count=count,
            rng=random.Random(seed),
        )
        self.rules.append(rule)
        return rule

    def forbid_chat(self, chat_id: int) -> None:
        """Every request naming this chat answers 403 from now on."""
        self.forbidden_chats.add(int(chat_id))

    def allow_chat(self, chat_id: int) -> None:
        self.forbidden_chats.discard(int(chat_id))

    def clear(self) -> None:
        """Remove every rule, the latency and the forbidden chats (counts are kept)."""
        self.rules.clear()
        self.latency = 0.0
        self.forbidden_chats.clear()

    def pick(self, method: str, chat_id: int | None) -> str | None:
        """The fault to inject into this request, if any (counted)."""
        for rule in self.rules:
            if rule.matches(method, chat_id):
                rule.fired += 1
                self.injected[rule.kind] += 1
                return rule.kind
        return None

    def as_dict(self) -> dict[str, object]:
        return {
            "rules": [r.as_dict() for r in self.rules],
            "hold": self.hold,
            "latency": self.latency,
            "forbidden_chats": sorted(self.forbidden_chats),
            "injected": dict(self.injected),
        }

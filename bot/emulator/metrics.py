"""Counters tests and benchmarks read through ``Emulator.metrics()``."""

from __future__ import annotations

from collections import Counter
from typing import Any


class Metrics:
    """Sends per chat, peak sends per emulated second, duplicate sends, 429s."""

    def __init__(self) -> None:
        self.sends = 0
        self.per_chat: Counter[int] = Counter()
        self.per_second: Counter[int] = Counter()
        self.duplicates = 0
        self.duplicate_keys: list[tuple[Any, ...]] = []
        self.too_many = 0
        self.requests = 0
        self.answers_lost = 0  # applied, but the client had gone before its answer was written
        self._seen: set[tuple[Any, ...]] = set()

    def sent(self, chat_id: int, now: float, key: tuple[Any, ...]) -> None:
        """Count an applied send; ``key`` identifies its content for duplicate detection."""
        self.sends += 1
        self.per_chat[chat_id] += 1
        self.per_second[int(now)] += 1
        full = (chat_id, *key)
        if full in self._seen:
            self.duplicates += 1
            self.duplicate_keys.append(full)
        else:
            self._seen.add(full)

    def snapshot(self, faults: dict[str, int]) -> dict[str, Any]:
        return {
            "sends": self.sends,
            "sends_per_chat": dict(self.per_chat),
            "peak_per_second": max(self.per_second.values(), default=0),
            "duplicates": self.duplicates,
            "too_many_requests": self.too_many,
            "requests": self.requests,
            "answers_lost": self.answers_lost,
            "faults": dict(faults),
            "faults_total": sum(faults.values()),
        }

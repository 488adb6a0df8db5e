"""What the delivery layer asks the rest of the bot, handed to it at start (bot/app.py).

Why hooks: the delivery layer sends what it is given and knows no capability, so it imports no
service (the import contract, tests/test_import_contract.py). Three questions it cannot answer
alone are answered by the services that own the answer: a group moved to a new id (every table
that names the chat follows), a chat that refused the bot (the person is no longer reachable, rule
P), and a chat's language and time zone (for the progress report).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class ChatSettings(Protocol):
    @property
    def language(self) -> str | None: ...

    @property
    def timezone(self) -> str | None: ...


@dataclass(frozen=True)
class ChatHooks:
    migrate: Callable[[AsyncSession, int, int, datetime], Awaitable[None]]
    unreachable: Callable[[AsyncSession, int, datetime], Awaitable[None]]
    settings: Callable[[AsyncSession, int], Awaitable[ChatSettings]]

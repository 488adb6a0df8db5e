"""The registry of free-text steps of guided flows (rule C): `@step("flow", "step")`.

`handlers/shared/flows.py` routes a person's plain message (or reply, in groups) to the step of the
flow their conversation row names; each capability registers its own steps here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import ContextTypes

if TYPE_CHECKING:
    from handlers.shared.common import Here

StepHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, "Here", str], Awaitable[None]]
STEPS: dict[tuple[str, str], StepHandler] = {}
# A flow that takes an edit of a message sent into it (the guided-flow kit's composers): given the
# edited message's id and new text, it answers True when the edit replaced an answer.
EditHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, "Here", int, str], Awaitable[bool]]
EDITS: dict[str, EditHandler] = {}


def step(flow: str, name: str) -> Callable[[StepHandler], StepHandler]:
    def register(handler: StepHandler) -> StepHandler:
        STEPS[(flow, name)] = handler
        return handler

    return register

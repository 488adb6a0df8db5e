"""`coalition-bot sandbox --tour`: a short scenario the sandbox plays on its own, printing what
each chat saw — registering an organisation, approving it, an alert and two answers, a poll and
its result chart saved to a file.

Why scripted through the same Sandbox as the console: the tour is what a person would do at the
console, so it shows the real bot and cannot drift from it; the suite runs it to its end.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.sandbox.console import show
from bot.sandbox.session import Line, Sandbox, start_sandbox

Step = Callable[[Sandbox], Awaitable[list[Line]]]


@dataclass
class Vote:
    """Someone votes in the newest poll of a chat."""

    who: str
    options: list[int]
    chat: str | None = None

    async def __call__(self, box: Sandbox) -> list[Line]:
        box.me = box.sample.people[self.who]
        box.here = (box.sample.chats[self.chat] if self.chat else box.emu.private_chat(box.me))
        heading = Line("note", f"\n▶ {self.who} in {box.chat_name(box.here)}: votes "
                               + ", ".join(str(n) for n in self.options))
        return [heading, *await box.vote(self.options)]


@dataclass
class Wait:
    """The clock moves on (reminders, closings, digests fire)."""

    seconds: int

    async def __call__(self, box: Sandbox) -> list[Line]:
        return [Line("note", f"\n▶ {self.seconds // 3600} hours pass"),
                *await box.wait(self.seconds)]


@dataclass
class Act:
    """Someone does something in a chat: types a text, or presses the button with a label."""

    who: str
    text: str | None = None
    press: str | None = None
    chat: str | None = None  # a group's title; None: their private chat

    async def __call__(self, box: Sandbox) -> list[Line]:
        box.me = box.sample.people[self.who]
        box.here = (box.sample.chats[self.chat] if self.chat else box.emu.private_chat(box.me))
        doing = self.text if self.text is not None else f"presses “{self.press}”"
        heading = Line("note", f"\n▶ {self.who} in {box.chat_name(box.here)}: {doing}")
        if self.text is not None:
            return [heading, Line("person", f"{self.who} ▸ {self.text}"), *await box.say(self.text)]
        return [heading, *await press_label(box, str(self.press))]


async def press_label(box: Sandbox, label: str) -> list[Line]:
    """Press the newest button with this label in the current chat."""
    for message in reversed(box.emu.bot_messages(box.here)):
        for row in message.buttons or []:
            for button in row:
                if button.text == label and button.callback_data:
                    box.buttons = [(message, label)]
                    return await box.press(1)
    return [Line("error", f"no button “{label}” in {box.chat_name(box.here)}")]


def registration() -> list[Step]:
    """Sam registers an organisation; the coordinator approves it."""
    return [
        Act("Sam", "/register"),
        Act("Sam", "Colectivo Tierra y Agua"),
        Act("Sam", press="Colectivo activista"),
        Act("Sam", press="Integrante plena"),
        Act("Sam", press="Estatal"),
        Act("Sam", press="Jalisco"), Act("Sam", press="Listo"),
        Act("Sam", press="Impuestos"), Act("Sam", press="Listo"),
        Act("Sam", press="Listo"),
        Act("Sam", press="Español"),
        Act("Sam", press="Cualquier integrante de nuestros grupos"),
        Act("Sam", press="Enviar"),
        Act("Coco", press="Aprobar"),
    ]


def alert() -> list[Step]:
    """The coordinator warns everyone; two organisations acknowledge, from a group and in
    private."""
    return [
        Act("Coco", "/alert"),
        Act("Coco", "Reforma a la Ley de Asociaciones"),
        Act("Coco", "El Congreso discute una reforma que obliga a registrar cada peso de "
                    "financiamiento extranjero. Revisen si les afecta."),
        Act("Coco", press="Listo"), Act("Coco", press="Listo"),
        Act("Coco", press="Urgente"), Act("Coco", press="Listo"), Act("Coco", press="Listo"),
        Act("Coco", press="Todas las organizaciones"),
        Act("Coco", press="Omitir"), Act("Coco", press="Omitir"), Act("Coco", press="Listo"),
        Act("Coco", press="Sin recordatorio automático"),
        Act("Coco", press="Enviar"),
        Act("Ana", press="✅ Recibido", chat="Red Jalisco (grupo)"),
        Act("Jack", press="✅ Received"),
        Act("Coco", "/alerts"),
    ]


def poll() -> list[Step]:
    """A poll on priorities, two votes, the close two days later with the result chart."""
    return [
        Act("Coco", "/poll"),
        Act("Coco", "¿Cuál debe ser la prioridad de la coalición este semestre?"),
        Act("Coco", "Reforma a la Ley de Asociaciones\nFiscalización del SAT\nVigilancia digital"),
        Act("Coco", press="Opción única"), Act("Coco", press="Un voto por organización"),
        Act("Coco", press="No"), Act("Coco", press="Todas las organizaciones"),
        Act("Coco", "all"),
        Act("Coco", "2d"),
        Act("Coco", press="Enviar"),
        Vote("Ana", [1], chat="Red Jalisco (grupo)"),
        Vote("Beto", [1], chat="Oaxaca Digna (grupo)"),
        Vote("Jack", [3]),
        Wait(2 * 86400 + 600),
    ]


# The story, in order; later capabilities add their part here.
EXTRA_STEPS: list[Callable[[], list[Step]]] = [alert, poll]


async def play(box: Sandbox, steps: list[Step]) -> list[Line]:
    lines: list[Line] = []
    for step in steps:
        done = await step(box)
        show(done)
        lines += done
    return lines


def sizes(box: Sandbox) -> dict[int, int]:
    return {chat.id: len(box.emu.transcript(chat)) for chat in box._all_chats()}


def transcripts(box: Sandbox, before: dict[int, int]) -> list[Line]:
    """What each chat saw during the tour (its last messages), at the end."""
    lines = [Line("note", "\n══ what each chat saw ══")]
    for chat in box._all_chats():
        grew = len(box.emu.transcript(chat)) - before.get(chat.id, 0)
        if grew > 0:
            lines += box.look(chat, last=min(grew, 6))
    return lines


async def run_tour(chart_path: str, box: Any = None) -> int:
    logging.disable(logging.WARNING)  # the bot's own logs would drown the tour
    try:
        return await _tour(chart_path, box)
    finally:
        logging.disable(logging.NOTSET)  # a process that goes on (a test) logs as before


async def _tour(chart_path: str, box: Any) -> int:
    own = box is None
    if own:
        print("starting the sandbox for the tour…", flush=True)
        box = await start_sandbox()
    try:
        before = sizes(box)
        steps = registration()
        for extra in EXTRA_STEPS:
            steps += extra()
        await play(box, steps)
        chart = save_chart(box, Path(chart_path))
        show(transcripts(box, before))
        if chart is not None:
            show([Line("note", f"\nthe poll's result chart is saved in {chart}")])
        show([Line("note", "\nthe tour is over: run `coalition-bot sandbox` to try it yourself")])
    finally:
        if own:
            await box.stop()
    return 0


def save_chart(box: Sandbox, path: Path) -> Path | None:
    """The newest picture or chart the bot sent anywhere (a poll's results), saved to a file."""
    for chat in box._all_chats():
        for message in reversed(box.emu.transcript(chat)):
            if message.photo is not None:
                path.write_bytes(message.photo)
                return path
            if message.document is not None and message.document.filename.endswith(".png"):
                path.write_bytes(message.document.content)
                return path
    return None

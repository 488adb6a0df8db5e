"""`coalition-bot sandbox`: a console to use the real bot as any member of a sample coalition.

Why prompt_toolkit: line editing and arrow-key history are what make a console usable, and it
prints above the prompt while the bot works; colours only where the terminal supports them
(`NO_COLOR` turns them off).
"""

from __future__ import annotations

import logging
import sys

from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.shortcuts import print_formatted_text
from prompt_toolkit.styles import Style

from bot.config import no_color
from bot.numbers import is_whole_number, whole_number
from bot.sandbox.session import Line, Sandbox, parse_duration, start_sandbox

STYLE = Style.from_dict({
    "bot": "ansicyan", "button": "ansiyellow bold", "note": "ansibrightblack",
    "error": "ansired", "person": "ansigreen", "prompt": "bold",
})
HELP = """\
You are a person in a sample coalition, talking to the real bot. Type what they would type:
  /start /help /register /alert /poll ...   (the bot's commands, as that person, in that chat)
  1, 2, ...        press the button with that number under the last messages shown
  /vote 2          vote for option 2 in the newest poll here (/vote 1 3: several; /vote: retract)
Sandbox commands:
  /who             the people and groups          /as NAME     become someone else
  /in GROUP        write in a group (/in private) /look NAME   what a chat has received
  /wait 2h         move the clock (30m, 1d, 1h30m) to see reminders, closings and digests
  /sandbox         this help                      /quit        leave (the sandbox is deleted)"""


def show(lines: list[Line]) -> None:
    colour = not no_color() and sys.stdout.isatty()
    for line in lines:
        if colour:
            print_formatted_text(FormattedText([(f"class:{line.style}", line.text)]),
                                 style=STYLE)
        else:
            print(line.text, flush=True)


async def handle(box: Sandbox, text: str) -> bool:
    """One line typed at the console; False to quit."""
    text = text.strip()
    if not text:
        return True
    word, _, rest = text.partition(" ")
    rest = rest.strip()
    if word in ("/quit", "/exit_sandbox"):
        return False
    if word == "/sandbox":
        show([Line("note", HELP)])
    elif word == "/who":
        show(box.who())
    elif word == "/as":
        person = box.person_named(rest)
        if person is None:
            show([Line("error", f"nobody called {rest!r}: see /who")])
        else:
            box.me, box.here = person, box.emu.private_chat(person)
            show([Line("note", f"you are {rest_name(box)} now, in your private chat")])
    elif word == "/in":
        chat = box.chat_named(rest)
        if chat is None:
            show([Line("error", f"no chat {rest!r}: see /who")])
        else:
            box.here = chat
            show([Line("note", f"writing in {box.chat_name(chat)}")])
    elif word == "/look":
        chat = box.chat_named(rest) if rest else box.here
        if chat is None:
            show([Line("error", f"no chat {rest!r}: see /who")])
        else:
            show(box.look(chat))
    elif word == "/wait":
        seconds = parse_duration(rest)
        if seconds is None:
            show([Line("error", "say how long, e.g. /wait 2h, /wait 30m, /wait 1d")])
        else:
            show(await box.wait(seconds))
    elif word == "/vote":
        numbers = rest.replace(",", " ").split()
        if not all(is_whole_number(n) for n in numbers):
            show([Line("error", "vote with option numbers, e.g. /vote 2")])
        else:
            show(await box.vote([int(n) for n in numbers]))
    elif word == "/press" or is_whole_number(text):
        number = whole_number(rest if word == "/press" else text)
        show(await box.press(number) if number is not None
             else [Line("error", "press a button by its number, e.g. 1")])
    else:
        show(await box.say(text))
    return True


def rest_name(box: Sandbox) -> str:
    return next(n for n, p in box.sample.people.items() if p.id == box.me.id)


async def run_console() -> int:
    logging.disable(logging.WARNING)  # the bot's own logs would drown the conversation
    try:
        return await _console()
    finally:
        logging.disable(logging.NOTSET)


async def _console() -> int:
    print("starting the sandbox: the emulator, a fresh database, a sample coalition…", flush=True)
    box = await start_sandbox()
    try:
        show([Line("note", HELP), *box.who(),
              Line("note", f"you are {rest_name(box)} (a coordinator), in your private chat. "
                           "Try /help.")])
        session: PromptSession[str] = PromptSession(history=InMemoryHistory())
        while True:
            prompt = f"{rest_name(box)} @ {box.chat_name(box.here)} > "
            try:
                with patch_stdout():
                    text = await session.prompt_async(
                        FormattedText([("class:prompt", prompt)]), style=STYLE)
            except (EOFError, KeyboardInterrupt):
                break
            if not await handle(box, text):
                break
    finally:
        await box.stop()
    print("sandbox closed", flush=True)
    return 0

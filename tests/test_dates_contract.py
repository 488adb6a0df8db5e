"""A date a person reads is formatted in one place, bot/dates.py (issue 24): day before month in
both languages, the zone as a place. An AST walk of the code fails on any other `strftime`,
`isoformat` or Babel date formatting, except the machine formats listed below with their
reason (a payload, a file a spreadsheet reads), so that no text can grow its own date format."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATTER = "bot/dates.py"
SKIPPED = ("bot/emulator/",)  # the Bot API emulator formats what Telegram would, not for people
CALLS = {"strftime", "isoformat"}
BABEL = {"format_datetime", "format_date", "format_time", "format_skeleton", "format_interval",
         "format_timedelta"}
# (file, call): why it is not a date for a person
MACHINE = {
    ("bot/services/actions/actions.py", "isoformat"): "a scheduled row's payload",
    ("bot/services/membership/members_view.py", "isoformat"): "the members' CSV, for spreadsheets",
    ("bot/services/alerts/statements.py", "strftime"): "the signatures' CSV, for spreadsheets",
    ("handlers/polls/polls.py", "isoformat"): "the draft's JSON and a scheduled row's payload",
    ("bot/sandbox/session.py", "strftime"): "the sandbox's log line, for the developer",
}


def formatting_calls() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]):
        name = path.relative_to(ROOT).as_posix()
        if name == FORMATTER or name.startswith(SKIPPED):
            continue
        for node in ast.walk(ast.parse(path.read_text(), name)):
            called = None
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr in CALLS | BABEL:
                    called = func.attr
                elif isinstance(func, ast.Name) and func.id in BABEL:
                    called = func.id
            elif isinstance(node, ast.ImportFrom) and node.module == "babel.dates":
                called = "babel.dates"
            if called is not None and (name, called) not in MACHINE:
                found.append((name, node.lineno, called))
    return found


def test_dates_for_people_are_formatted_only_by_the_formatter() -> None:
    assert formatting_calls() == []


def test_the_allowed_machine_formats_are_still_there() -> None:
    """An entry left after its use is gone would let a person's date in unnoticed."""
    used = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        text = path.read_text()
        for (name, call), _ in MACHINE.items():
            if path.relative_to(ROOT).as_posix() == name and f".{call}(" in text:
                used.add((name, call))
    assert used == set(MACHINE)

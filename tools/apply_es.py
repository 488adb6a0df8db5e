"""Merge Spanish translations given as a Python dict (file path in argv[1]) into the es catalogue.

Handy when many texts arrive at once; single edits go straight into the .po file. A plural entry
is keyed by its singular msgid and given as a tuple: `"{n} chat": ("{n} chat", "{n} chats")`.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "locales/es/LC_MESSAGES/messages.po"

if __name__ == "__main__":
    given: dict[str, str] = runpy.run_path(sys.argv[1])["ES"]
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="es")
    unknown = [k for k in given if k not in catalog]
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key in given:
            if isinstance(message.id, tuple) != isinstance(given[key], tuple):
                print(f"plural and singular mixed up: {key!r}")
                continue
            message.string = given[key]
            message.flags.discard("fuzzy")
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True)
    for key in unknown:
        print(f"not in the catalogue: {key!r}")

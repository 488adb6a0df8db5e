"""Keep the gettext catalogues in step with the code: extract, update, fill `en`, compile.

    .venv/bin/python tools/translations.py          # after changing texts in the code
    .venv/bin/python tools/translations.py --check  # fail on a missing, empty or fuzzy `es` entry
    .venv/bin/python tools/translations.py --extract-to FILE   # only extract, into FILE

Extraction looks for the keywords below and nothing else (not Babel's defaults such as `_` and
`gettext`, which other code uses as names): `N_` marks a text to translate later, `tr` and
`tr_plural` are `bot.i18n.Text`'s translating methods. The tests and tools/check_extraction.py
call `--extract-to`, so every extraction is this one.

Message ids are English, so the `en` catalogue's translations are the ids themselves; `es` is
translated by hand in `locales/es/LC_MESSAGES/messages.po`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


def run(*args: str) -> None:
    subprocess.run([*PYBABEL, *args], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


KEYWORDS = ("N_", "tr", "tr_plural:1,2")


def extract(output: Path = POT) -> None:
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    run("extract", "-F", "babel.cfg", "--no-default-keywords", *keywords, "--no-location",
        "--sort-output", "--project=coalition-bot", "-o", str(output), ".")


def update() -> None:
    for lang in ("es", "en"):
        po = LOCALES / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            run("update", "-i", str(POT), "-d", str(LOCALES), "-l", lang, "--no-fuzzy-matching",
                "--ignore-obsolete", "--width=100")
        else:
            run("init", "-i", str(POT), "-d", str(LOCALES), "-l", lang)


def fill_english() -> None:
    po = LOCALES / "en" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    with po.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True)


def compile_all() -> None:
    run("compile", "-d", str(LOCALES), "--statistics")


def problems(lang: str = "es") -> list[str]:
    """Entries of the catalogue a reader would see untranslated."""
    with (LOCALES / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    found = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id)
        strings = entry.string if entry is not None else None
        empty = not all(strings) if isinstance(strings, tuple) else not strings
        if entry is None or empty or entry.fuzzy:
            found.append(str(message.id))
    return found


if __name__ == "__main__":
    if "--extract-to" in sys.argv:
        extract(Path(sys.argv[sys.argv.index("--extract-to") + 1]).resolve())
        sys.exit(0)
    if "--check" in sys.argv:
        missing = problems()
        for text in missing:
            print(f"untranslated: {text!r}")
        sys.exit(1 if missing else 0)
    if "--compile" not in sys.argv:
        extract()
        update()
        fill_english()
    compile_all()

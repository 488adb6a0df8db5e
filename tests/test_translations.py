"""Rule L: the Spanish catalogue is complete, and the code's texts are all in the catalogues."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import Text, render

ROOT = Path(__file__).resolve().parent.parent


def catalogue(lang: str):
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def test_every_text_in_the_code_is_in_the_template(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "N_", "-k", "t", "-k", "label", "-k", "plural:1,2", "--no-location",
         "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with fresh.open("rb") as handle:
        in_code = {m.id for m in read_po(handle) if m.id}
    with (ROOT / "locales" / "messages.pot").open("rb") as handle:
        in_template = {m.id for m in read_po(handle) if m.id}
    missing = in_code - in_template
    assert not missing, f"run `python tools/translations.py`: {sorted(missing)[:5]}"


def test_spanish_has_no_missing_empty_or_fuzzy_entry() -> None:
    with (ROOT / "locales" / "messages.pot").open("rb") as handle:
        template = [m for m in read_po(handle) if m.id]
    es = catalogue("es")
    bad = []
    for message in template:
        entry = es.get(message.id)
        strings = entry.string if entry else None
        empty = not all(strings) if isinstance(strings, tuple) else not strings
        if entry is None or empty or entry.fuzzy:
            bad.append(message.id)
    assert not bad, f"untranslated Spanish entries: {bad[:5]}"


def test_english_catalogue_covers_the_template() -> None:
    with (ROOT / "locales" / "messages.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    en = catalogue("en")
    assert all(en.get(i) is not None and en.get(i).string for i in template)


def test_placeholders_survive_translation() -> None:
    es = catalogue("es")
    for message in es:
        if message.id and "{" in str(message.id):
            import re

            names = set(re.findall(r"\{(\w+)\}", str(message.id)))
            assert names == set(re.findall(r"\{(\w+)\}", str(message.string))), message.id


def test_values_are_escaped_and_dates_follow_the_chat() -> None:
    from datetime import UTC, datetime

    t = Text("es", "America/Mexico_City")
    text = t("“{name}” is not a time zone I know. Use a name like America/Mexico_City or "
             "Europe/Madrid (see the list at https://en.wikipedia.org/wiki/"
             "List_of_tz_database_time_zones), or /cancel.", name="<b>x</b>")
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    moment = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)
    assert "12:30" in t.datetime(moment, "short")
    assert "12:30" in Text("en", "America/Mexico_City").datetime(moment, "short")
    both = render("both", "UTC", lambda tt: tt("There is nothing to cancel."))
    assert both.index("No hay nada que cancelar.") < both.index("There is nothing to cancel.")

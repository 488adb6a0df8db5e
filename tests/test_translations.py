"""Rule L: the Spanish catalogue is complete, and the code's texts are all in the catalogues."""

from __future__ import annotations

import io
import subprocess
import sys
import tokenize
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import Text, render

ROOT = Path(__file__).resolve().parent.parent


def catalogue(lang: str):
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def test_every_text_in_the_code_is_in_the_template(tmp_path: Path) -> None:
    """The extraction (tools/translations.py's, the one `make translations` runs) finds exactly
    the template's texts: none missing, and nothing that is not a text of ours."""
    fresh = tmp_path / "fresh.pot"
    subprocess.run([sys.executable, "tools/translations.py", "--extract-to", str(fresh)],
                   cwd=ROOT, check=True, capture_output=True)
    with fresh.open("rb") as handle:
        in_code = {m.id for m in read_po(handle) if m.id}
    with (ROOT / "locales" / "messages.pot").open("rb") as handle:
        in_template = {m.id for m in read_po(handle) if m.id}
    missing, extra = in_code - in_template, in_template - in_code
    assert not missing, f"run `make translations`: {sorted(missing)[:5]}"
    assert not extra, f"no longer in the code (run `make translations`): {sorted(extra)[:5]}"


def _sources() -> list[Path]:
    """The files babel.cfg extracts from: bot/ and handlers/, less the emulator."""
    return [p for folder in ("bot", "handlers") for p in sorted((ROOT / folder).rglob("*.py"))
            if "emulator" not in p.relative_to(ROOT).parts]


def test_the_translation_keywords_name_nothing_else() -> None:
    """pybabel finds texts by name: `tr`, `tr_plural` and `N_` are only ever called (or defined,
    or imported) there, never a variable, an attribute read or a subscript that it would take for
    a translation call (Babel 2.19 took `t["subtypes"]` and `label[:39] + "…"` for texts)."""
    keywords = {"tr", "tr_plural", "N_"}
    misused = []
    for path in _sources():
        tokens = [tok for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
                  if tok.type not in (tokenize.NL, tokenize.COMMENT)]
        statement_start, in_import = True, False
        for i, tok in enumerate(tokens):
            if statement_start and tok.type not in (tokenize.INDENT, tokenize.DEDENT):
                in_import, statement_start = tok.string in ("import", "from"), False
            if tok.type == tokenize.NEWLINE:
                statement_start = True
            if tok.type != tokenize.NAME or tok.string not in keywords:
                continue
            called = i + 1 < len(tokens) and tokens[i + 1].string == "("
            defined = i > 0 and tokens[i - 1].string == "def"
            if not (called or defined or in_import):
                misused.append(f"{path.relative_to(ROOT)}:{tok.start[0]}")
    assert not misused, f"a translation keyword used as a name: {misused[:5]}"


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
    text = t.tr("“{name}” is not a time zone I know, nor a city or a country I can place. Type "
                "a city or a country (Guatemala, Ciudad de México, Madrid), or a name like "
                "America/Mexico_City, or /cancel.", name="<b>x</b>")
    assert "&lt;b&gt;x&lt;/b&gt;" in text and "no es una zona horaria" in text
    moment = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)
    assert "12:30" in t.moment(moment)
    assert "12:30" in Text("en", "America/Mexico_City").moment(moment)
    both = render("both", "UTC", lambda tt: tt.tr("There is nothing to cancel."))
    assert both.index("No hay nada que cancelar.") < both.index("There is nothing to cancel.")

"""Texts with a count agree with it: one organisation, two organisations (gettext plurals)."""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import Text
from handlers.alerts.review import review_note
from handlers.shared import counts

ROOT = Path(__file__).resolve().parent.parent


def test_a_count_reads_singular_for_one_and_plural_otherwise() -> None:
    def corrected(lang: str, n: int) -> str:
        return Text(lang).tr_plural("✏️ Corrected {n} time, last {when}.",
                                    "✏️ Corrected {n} times, last {when}.", n, when="<today>")

    assert corrected("en", 1) == "✏️ Corrected 1 time, last &lt;today&gt;."
    assert corrected("en", 2) == "✏️ Corrected 2 times, last &lt;today&gt;."
    assert corrected("es", 1) == "✏️ Corregida 1 vez, la última el &lt;today&gt;."
    assert corrected("es", 2) == "✏️ Corregida 2 veces, la última el &lt;today&gt;."


def test_two_counts_in_one_message_each_agree() -> None:
    class Reach:
        def __init__(self, orgs: int, chats: int) -> None:
            self.orgs, self.targets = orgs, [0] * chats

    en, es = Text("en"), Text("es")
    assert "It will reach <b>1</b> organisation in <b>2</b> chats." in review_note(en, Reach(1, 2))
    assert "It will reach <b>3</b> organisations in <b>1</b> chat." in review_note(en, Reach(3, 1))
    assert "Llegará a <b>1</b> organización en <b>1</b> chat." in review_note(es, Reach(1, 1))
    assert "Llegará a <b>3</b> organizaciones en <b>4</b> chats." in review_note(es, Reach(3, 4))
    assert counts.orgs(es, 1000) == f"{es.number(1000)} organizaciones"  # as t.number did


def test_every_plural_in_the_code_is_a_plural_entry() -> None:
    """`t.tr_plural` nested in another translated call is not extracted (pybabel): hoist it."""
    with (ROOT / "locales" / "messages.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if isinstance(m.id, tuple)}
    in_code = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "tr_plural" and len(node.args) >= 2
                        and all(isinstance(a, ast.Constant) for a in node.args[:2])):
                    in_code.add((node.args[0].value, node.args[1].value))
    assert in_code
    missing = in_code - template
    assert not missing, f"not extracted as plurals: {sorted(missing)[:3]}"

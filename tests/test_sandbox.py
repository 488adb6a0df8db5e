"""The sandbox (issue 13): a person drives the console through a pseudo-terminal, and the guided
tour plays to its end."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from bot.sandbox.session import parse_duration
from bot.sandbox.tour import run_tour

ROOT = Path(__file__).resolve().parent.parent
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB0-2]|\r")


class Console:
    """`coalition-bot sandbox` in a pseudo-terminal, read as a person reads it."""

    def __init__(self) -> None:
        env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "COLUMNS": "160",
               "PROMPT_TOOLKIT_NO_CPR": "1",
               "TELEGRAM_BOT_TOKEN": "", "DATABASE_URL": ""}
        self.child = pexpect.spawn(sys.executable, ["-m", "bot.cli", "sandbox"], cwd=str(ROOT),
                                   env=env, encoding="utf-8", timeout=90,
                                   dimensions=(50, 160))
        self.seen = ""
        self.wait_prompt()

    def wait_prompt(self) -> str:
        # A fresh, empty prompt: its ">" is followed by an escape (a typed line, by text).
        self.child.expect(r"\w+ @ [^\n>]+ >\x1b")
        self.seen = ESCAPES.sub("", self.child.before or "")
        return self.seen

    def type(self, text: str) -> str:
        self.child.sendline(text)
        return self.wait_prompt()

    def press(self, label: str) -> str:
        found = re.findall(r"\[(\d+)\] " + re.escape(label) + r"(?:\s{3}|\n|$)", self.seen)
        assert found, f"no button {label!r} in:\n{self.seen}"
        return self.type(found[-1])

    def close(self) -> None:
        if self.child.isalive():
            self.child.sendline("/quit")
            self.child.expect(pexpect.EOF, timeout=30)


@pytest.fixture
def console() -> Console:
    shell = Console()
    yield shell
    shell.close()


def test_a_person_registers_an_org_and_the_coordinator_approves_it(console: Console) -> None:
    assert "you are Coco (a coordinator)" in console.seen
    assert "Red Jalisco por la Transparencia" in console.seen  # the sample, in /who
    said = console.type("/as Sam")
    assert "you are Sam now" in said
    said = console.type("/register")
    assert "¿Cómo se llama tu organización?" in said
    said = console.type("Colectivo Tierra y Agua")
    assert "¿Qué tipo de organización es?" in said
    console.press("Colectivo activista")
    console.press("Integrante plena")
    console.press("Estatal")
    said = console.press("Jalisco")
    assert "✅ Jalisco" in said
    console.press("Listo")
    console.press("Impuestos")
    console.press("Listo")
    console.press("Listo")
    console.press("Español")
    said = console.press("Cualquier integrante de nuestros grupos")
    assert "Revisa tu registro" in said and "Nombre: Colectivo Tierra y Agua" in said
    said = console.press("Enviar")
    assert "se envió a las coordinadoras" in said
    assert "1 new in Coco (private)" in said
    said = console.type("/as Coco")
    said = console.type("/look")
    assert "Nueva solicitud de registro" in said
    said = console.press("Aprobar")
    assert "(answer: Aprobada.)" in said or "Aprobada" in said
    said = console.type("/look Sam")
    assert "fue aprobada y ya es miembro de la coalición" in said
    # The coordinator sends an alert; Ana acknowledges it from her organisation's group.
    console.type("/as Coco")
    console.type("/alert")
    console.type("Reforma a la Ley de Asociaciones")
    console.type("El Congreso discute una reforma.")
    console.press("Listo")
    console.press("Listo")
    console.press("Urgente")
    console.press("Listo")
    console.press("Listo")
    console.press("Todas las organizaciones")
    console.press("Omitir")
    console.press("Omitir")
    console.press("Listo")
    said = console.press("Sin recordatorio automático")
    assert "Llegará a 13 organizaciones" in said
    said = console.press("Enviar")
    assert "Enviando la alerta a 13 organizaciones" in said
    assert "1 new in Red Jalisco (grupo)" in said
    console.type("/as Ana")
    said = console.type("/in Red Jalisco")
    assert "writing in Red Jalisco (grupo)" in said
    said = console.type("/look")
    assert "Reforma a la Ley de Asociaciones" in said
    said = console.press("✅ Recibido")
    # The bot's own confirmation, not just any answer (a refusal is an answer too).
    assert "(answer: Gracias: quedó registrada la respuesta de su organización.)" in said
    console.type("/as Coco")
    said = console.type("/alerts")
    assert "Reforma a la Ley de Asociaciones" in said
    said = console.type("/wait 2h")
    assert "the clock moved 2 h 0 min" in said
    said = console.type("/wait soon")
    assert "say how long" in said
    said = console.type("99")
    assert "no button 99" in said


async def test_the_tour_plays_to_its_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    assert await run_tour(str(tmp_path / "chart.png")) == 0
    out = capsys.readouterr().out
    assert "▶ Sam in Sam (private): /register" in out
    assert "fue aprobada y ya es miembro de la coalición" in out
    assert "▶ Ana in Red Jalisco (grupo): presses “✅ Recibido”" in out
    assert "Poll results" in out and "Reforma a la Ley de Asociaciones: 2 votes" in out
    assert "══ what each chat saw ══" in out
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
    assert out.rstrip().endswith("the tour is over: run `coalition-bot sandbox` to try it yourself")


def test_durations() -> None:
    assert parse_duration("2h") == 7200
    assert parse_duration("1h30m") == 5400
    assert parse_duration("3d") == 3 * 86400
    assert parse_duration("90s") == 90
    assert parse_duration("soon") is None and parse_duration("2x") is None

"""The lock (requirements/*.txt, tools/lock.py): current, complete with hashes, and a stale lock
stops `make test` before anything is installed or tested."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_TOOLS = ("pytest", "pytest-asyncio", "ruff", "hypothesis", "pexpect")


def pins(lock: Path) -> dict[str, list[str]]:
    """Package name -> the versions the lock pins (two where a marker splits by Python)."""
    found: dict[str, list[str]] = {}
    for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", lock.read_text(), re.M):
        found.setdefault(name.lower(), []).append(version)
    return found


def test_the_lock_is_current() -> None:
    done = subprocess.run([sys.executable, "tools/lock.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_the_running_set_has_no_test_tools_and_the_test_set_keeps_its_pins() -> None:
    run, test = pins(ROOT / "requirements/run.txt"), pins(ROOT / "requirements/test.txt")
    assert {"python-telegram-bot", "sqlalchemy", "babel", "pip", "setuptools"} <= set(run)
    assert not set(TEST_TOOLS) & set(run)
    assert set(TEST_TOOLS) <= set(test)
    assert all(test[name] == versions for name, versions in run.items())
    assert "aiolimiter" not in test  # the rate-limiter extra nothing imports
    for lock in ("run.txt", "test.txt"):
        text = (ROOT / "requirements" / lock).read_text()
        entries = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text.split("\n", 3)[3])
        assert all("--hash=sha256:" in entry for entry in entries if "==" in entry), lock


def test_a_stale_lock_stops_make_test_at_once(tmp_path: Path) -> None:
    """A copy of the project whose pyproject.toml asks for one more package: `make test` refuses
    in one line, before creating the venv (so before installing or running anything)."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, copy / name)
    for folder in ("requirements", "tools"):
        shutil.copytree(ROOT / folder, copy / folder)
    pyproject = copy / "pyproject.toml"
    edited = pyproject.read_text().replace('dependencies = [\n',
                                           'dependencies = [\n    "rich>=13",\n', 1)
    assert edited != pyproject.read_text()
    pyproject.write_text(edited)
    # As a person types it, not as a sub-make of a `make test` that runs this suite.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(["make", "--no-print-directory", "test", f"PYTHON={sys.executable}"],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=10)
    assert done.returncode != 0
    assert done.stdout == ""
    make_says = re.compile(r"make(\[\d+\])?: \*\*\*")  # make's own "Error 1" line
    refusal = [line for line in done.stderr.splitlines() if not make_says.match(line)]
    assert refusal == ["pyproject.toml changed since the lock: run make lock"]
    assert not (copy / ".venv").exists()

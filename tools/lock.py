"""The lock files: every package `make run` and `make test` install, pinned with hashes.

    python3 tools/lock.py            refresh requirements/*.txt from pyproject.toml (`make lock`)
    python3 tools/lock.py --check    one line and exit 1 when the lock is older than its inputs

Why a lock: `pyproject.toml` gives ranges, and a new release inside a range (Babel 2.19.0 once)
changed what the tests saw on a fresh machine. The lock pins each package, direct and transitive,
to one version and the hashes of its files; `make` installs it with `pip --require-hashes`, so a
file that changed on the index, or a package the lock forgot, stops the install.

Two sets: `requirements/run.txt` (the bot: what production and `make run` install) and
`requirements/test.txt` (the same pins plus the test tools, added to the same venv by `make test`).
Both come from one universal resolution (uv's `--universal`), so one file installs on every Python
the project supports (3.11 to 3.13, checked) and every platform: where a package needs another
version on a newer Python, the file holds both, each behind a marker.

The first line of each file is the SHA-256 of the inputs it was made from (pyproject.toml and
requirements/build.in, byte for byte): `--check` compares it, so any edit to pyproject.toml needs
`make lock`, which keeps every existing pin that still fits (uv prefers the versions already in
the file) and only moves what the edit asks for.

uv runs from its own small venv (`.lock-tools/`, from requirements/uv.txt, hashes checked), never
from the bot's: the lock tool is no more part of production than the test tools are.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
INPUTS = (ROOT / "pyproject.toml", REQUIREMENTS / "build.in")
RUN_LOCK = REQUIREMENTS / "run.txt"
TEST_LOCK = REQUIREMENTS / "test.txt"
UV_LOCK = REQUIREMENTS / "uv.txt"
TOOLS = ROOT / ".lock-tools"
LOWEST_PYTHON = "3.11"  # requires-python's floor: a universal lock resolves from there up
MARK = "# inputs sha256: "


def digest() -> str:
    """One hash over the inputs, each file's name then its bytes."""
    h = hashlib.sha256()
    for path in INPUTS:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def stale() -> str | None:
    """Why the lock cannot be installed as it is, in one line, or None when it is current."""
    for lock in (RUN_LOCK, TEST_LOCK):
        if not lock.exists():
            return f"{lock.relative_to(ROOT)} is missing: run make lock"
        first = lock.read_text(encoding="utf-8").split("\n", 1)[0]
        if first != MARK + digest():
            return "pyproject.toml changed since the lock: run make lock"
    return None


def _uv() -> Path:
    """uv in its own venv, installed from requirements/uv.txt with hashes checked."""
    uv = TOOLS / "bin" / "uv"
    if not uv.exists():
        venv.create(TOOLS, with_pip=True)
        subprocess.run([str(TOOLS / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "--require-hashes", "-r", str(UV_LOCK)],
                       check=True)
    return uv


def _compile(uv: Path, output: Path, *args: str) -> None:
    env = {**os.environ, "UV_CUSTOM_COMPILE_COMMAND": "make lock"}
    subprocess.run([str(uv), "pip", "compile", "--quiet", "--universal",
                    "--python-version", LOWEST_PYTHON, "--generate-hashes",
                    "pyproject.toml", "requirements/build.in", *args,
                    "-o", str(output.relative_to(ROOT))], cwd=ROOT, env=env, check=True)
    body = output.read_text(encoding="utf-8")
    if body.startswith(MARK):
        body = body.split("\n", 1)[1]
    output.write_text(f"{MARK}{digest()}\n{body}", encoding="utf-8")


def lock() -> None:
    uv = _uv()
    _compile(uv, RUN_LOCK)
    # The test set keeps the running set's pins (a constraint), so adding it changes nothing
    # production runs.
    _compile(uv, TEST_LOCK, "--extra", "dev", "--constraint", "requirements/run.txt")
    print(f"locked: {RUN_LOCK.relative_to(ROOT)}, {TEST_LOCK.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problem = stale()
        if problem:
            print(problem, file=sys.stderr)
            return 1
        return 0
    lock()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Does text extraction depend on Babel's version? Run it with several, each in its own venv.

    python3 tools/check_extraction.py [VERSION ...]    (default: the locked one, 2.18.0, 2.19.0)

Not part of `make test` (it installs Babel several times). Each venv runs the project's one
extraction (`tools/translations.py --extract-to`) and the report says, per version, whether it
found exactly the texts of locales/messages.pot. Babel 2.19.0 read `t["subtypes"]` and
`label[:39] + "…"` as translation calls when the keywords were `t` and `label`: the keywords are
now names nothing else uses, so every version should agree.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VERSIONS = ("2.18.0", "2.19.0")


def locked_babel() -> str:
    """The lock's Babel entry, with its hashes."""
    text = (ROOT / "requirements" / "run.txt").read_text(encoding="utf-8")
    entry = re.search(r"^babel==\S+(?: \\\n(?:    --hash=\S+(?: \\)?\n)+)", text, re.M | re.I)
    if entry is None:
        raise SystemExit("no babel entry in requirements/run.txt")
    return entry.group(0)


def ids(pot: Path) -> set[object]:
    from babel.messages.pofile import read_po

    with pot.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def extract_with(folder: Path, label: str, requirement: list[str]) -> Path:
    env = folder / label
    venv.create(env, with_pip=True)
    py = env / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *requirement], check=True, stderr=subprocess.DEVNULL)
    version = subprocess.run([str(py), "-c", "import babel; print(babel.__version__)"],
                             check=True, capture_output=True, text=True).stdout.strip()
    out = folder / f"{label}.pot"
    subprocess.run([str(py), "tools/translations.py", "--extract-to", str(out)], cwd=ROOT,
                   check=True, capture_output=True)
    print(f"Babel {version} ({label}): ", end="")
    return out


def main(argv: list[str]) -> int:
    catalogue = ids(ROOT / "locales" / "messages.pot")
    print(f"locales/messages.pot: {len(catalogue)} texts")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        entry = locked_babel()
        (folder / "babel.txt").write_text(entry + "\n", encoding="utf-8")
        runs = [("locked", ["--require-hashes", "-r", str(folder / "babel.txt")])]
        runs += [(f"pinned {v}", [f"babel=={v}"]) for v in (argv or DEFAULT_VERSIONS)]
        for label, requirement in runs:
            found = ids(extract_with(folder, label.replace(" ", "-"), requirement))
            extra, missing = found - catalogue, catalogue - found
            if extra or missing:
                failures += 1
                print(f"{len(found)} texts; {len(extra)} not in the catalogue "
                      f"{sorted(map(str, extra))[:5]}, {len(missing)} missing "
                      f"{sorted(map(str, missing))[:5]}")
            else:
                print(f"{len(found)} texts, exactly the catalogue's")
    print("all agree" if not failures else f"{failures} version(s) disagree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

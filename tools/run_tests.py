"""Run a test suite once per database: SQLite, then PostgreSQL.

    tools/run_tests.py [pytest args]                  the default suite (what `make test` ran)
    tools/run_tests.py --reliability [pytest args]    the reliability suite (`make reliability`)
    tools/run_tests.py --all [pytest args]            the default suite on both databases, then
                                                      the reliability suite on both (`make test`)

The reliability suite is `tests/reliability` (marked `reliability`, deselected by default in
pyproject.toml); it runs at LOG_LEVEL=DEBUG with every logger captured (its conftest.py).

PostgreSQL is TEST_DATABASE_URL, or the local server at 127.0.0.1:5432 (user postgres, trust
auth) when that is reachable. With CI or TEST_DATABASE_URL set, PostgreSQL is required: an
unreachable server fails the run (conftest.py exits), it is never skipped silently.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
RELIABILITY = ["-m", "reliability", "tests/reliability"]
NO_TESTS_SELECTED = 5  # pytest's exit code when `-k` or `-m` leaves nothing to run


def reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def run_on_both(name: str, args: list[str], *, tolerate_empty: bool = False) -> int:
    """One suite on SQLite, then on PostgreSQL; the first failing exit code, else 0."""
    explicit = os.environ.get("TEST_DATABASE_URL", "")
    env_sqlite = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    results: dict[str, int] = {}
    started = time.monotonic()
    print(f"== {name} on SQLite ==", flush=True)
    results["SQLite"] = subprocess.call([sys.executable, "-m", "pytest", *args], env=env_sqlite)
    pg_url = explicit or DEFAULT_PG
    if not (explicit or os.environ.get("CI")) and not reachable():
        print("== PostgreSQL not reachable at 127.0.0.1:5432: its run is skipped "
              "(set TEST_DATABASE_URL or CI=1 to require it) ==", flush=True)
    else:
        print(f"== {name} on PostgreSQL ({pg_url.split('@')[-1]}) ==", flush=True)
        env_pg = {**os.environ, "TEST_DATABASE_URL": pg_url}
        results["PostgreSQL"] = subprocess.call([sys.executable, "-m", "pytest", *args], env=env_pg)
    if tolerate_empty:
        results = {db: 0 if rc == NO_TESTS_SELECTED else rc for db, rc in results.items()}
    print(f"== {name}: {', '.join(f'{db} exit {rc}' for db, rc in results.items())} "
          f"in {time.monotonic() - started:.0f} s ==", flush=True)
    return next((rc for rc in results.values() if rc), 0)


def main(argv: list[str]) -> int:
    mode = "default"
    if argv and argv[0] in ("--reliability", "--all"):
        mode, argv = argv[0][2:], argv[1:]
    if mode == "reliability":
        return run_on_both("reliability suite", [*RELIABILITY, *argv])
    default_rc = run_on_both("test suite", argv)
    if mode == "default":
        return default_rc
    # `make test ARGS="-k x"`: a filter that selects no reliability test is not a failure.
    reliability_rc = run_on_both("reliability suite", [*RELIABILITY, *argv],
                                 tolerate_empty=bool(argv))
    return default_rc or reliability_rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

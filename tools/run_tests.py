"""Run the whole suite once per database: SQLite, then PostgreSQL.

PostgreSQL is TEST_DATABASE_URL, or the local server at 127.0.0.1:5432 (user postgres, trust
auth) when that is reachable. With CI or TEST_DATABASE_URL set, PostgreSQL is required: an
unreachable server fails the run (conftest.py exits), it is never skipped silently.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def pytest(extra_env: dict[str, str], args: list[str]) -> int:
    env = {**os.environ, **extra_env}
    return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)


def main(args: list[str]) -> int:
    explicit = os.environ.get("TEST_DATABASE_URL", "")
    env_sqlite = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    print("== test suite on SQLite ==", flush=True)
    sqlite_rc = subprocess.call([sys.executable, "-m", "pytest", *args], env=env_sqlite)
    pg_url = explicit or DEFAULT_PG
    if not (explicit or os.environ.get("CI")) and not reachable():
        print("== PostgreSQL not reachable at 127.0.0.1:5432: its run is skipped "
              "(set TEST_DATABASE_URL or CI=1 to require it) ==", flush=True)
        return sqlite_rc
    print(f"== test suite on PostgreSQL ({pg_url.split('@')[-1]}) ==", flush=True)
    pg_rc = pytest({"TEST_DATABASE_URL": pg_url}, args)
    if sqlite_rc or pg_rc:
        print(f"FAILED: SQLite exit {sqlite_rc}, PostgreSQL exit {pg_rc}", flush=True)
        return sqlite_rc or pg_rc
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

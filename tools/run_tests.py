"""Run the test suites once per database, and print what each part cost.

    tools/run_tests.py [pytest args]                  the default suite on SQLite, then PostgreSQL
    tools/run_tests.py --reliability [pytest args]    the reliability suite (`make reliability`)
    tools/run_tests.py --all [pytest args]            both suites on both databases (`make test`)

Options before the pytest arguments:
    --workers N           test processes for the parallel phase (default 2, WORKERS in the
                          environment; 0 runs everything in this process, serially)
    --random-order[=SEED] shuffle the tests of every part (seed printed; the same seed replays
                          the same order)

A part is one suite on one database. The default suite runs in two phases: most tests on N
workers (pytest-xdist; each worker has its own SQLite files or PostgreSQL databases, its own
emulator on its own port), then the tests marked `serial` (they measure time or kill processes:
the pacer, the delivery engine, the crash test) alone. The reliability suite (`tests/reliability`,
marked `reliability`: failover, two instances, fault rates) runs alone, serially. After each part
the runner prints its wall time, the CPU time of every process it ran, and its test counts; a
full run (no pytest arguments) also fails a part that collected fewer tests than the floor below,
so that a suite cannot shrink unnoticed.

PostgreSQL is TEST_DATABASE_URL, or the local server at 127.0.0.1:5432 (user postgres, trust
auth) when that is reachable. With CI or TEST_DATABASE_URL set, PostgreSQL is required: an
unreachable server fails the run (conftest.py exits), it is never skipped silently.
"""

from __future__ import annotations

import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
NO_TESTS_SELECTED = 5  # pytest's exit code when `-k` or `-m` leaves nothing to run
# The fewest tests a full run of each suite may collect, per database (issue 20: as many as
# 587590e had); raise them as tests are added.
FLOOR = {"default": 385, "reliability": 10}


@dataclass
class Phase:
    name: str
    args: list[str]
    parallel: bool


@dataclass
class Outcome:
    """What one part ran: counts from pytest's JUnit XML, times from this process's clock and
    the resource usage of its children (xdist workers included: pytest waits for them)."""

    tests: int = 0
    failed: int = 0
    skipped: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    codes: list[int] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return self.tests - self.failed - self.skipped

    def line(self) -> str:
        return (f"{self.tests} tests ({self.passed} passed, {self.skipped} skipped, "
                f"{self.failed} failed), {self.wall:.0f} s wall, {self.cpu:.0f} s CPU")


SUITES = {
    "default": [
        Phase("parallel", ["-m", "not reliability and not serial"], parallel=True),
        Phase("serial", ["-m", "not reliability and serial"], parallel=False),
    ],
    "reliability": [Phase("serial", ["-m", "reliability", "tests/reliability"], parallel=False)],
}


def reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def count(junit: Path, outcome: Outcome) -> None:
    if not junit.exists():
        return
    for suite in ET.parse(junit).getroot().iter("testsuite"):  # noqa: S314 - pytest wrote it
        outcome.tests += int(suite.get("tests", 0))
        outcome.failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        outcome.skipped += int(suite.get("skipped", 0))


def run_part(suite: str, db: str, env: dict[str, str], argv: list[str], workers: int,
             order: list[str], scratch: Path) -> Outcome:
    outcome = Outcome()
    started, cpu0 = time.monotonic(), children_cpu()
    for phase in SUITES[suite]:
        junit = scratch / f"{suite}-{db}-{phase.name}.xml"
        spread = ["-n", str(workers), "--dist", "load"] if phase.parallel and workers else []
        print(f"== {suite} suite on {db}, {phase.name} phase"
              f"{f' ({workers} workers)' if spread else ''} ==", flush=True)
        cmd = [sys.executable, "-m", "pytest", *phase.args, *spread, *order,
               f"--junitxml={junit}", *argv]
        code = subprocess.call(cmd, env=env)
        outcome.codes.append(0 if code == NO_TESTS_SELECTED else code)
        count(junit, outcome)
    outcome.wall = time.monotonic() - started
    outcome.cpu = children_cpu() - cpu0
    if not argv and outcome.tests < FLOOR[suite]:
        print(f"== {suite} suite on {db}: {outcome.tests} tests collected, fewer than the "
              f"floor of {FLOOR[suite]} (tools/run_tests.py FLOOR) ==", flush=True)
        outcome.codes.append(1)
    print(f"== {suite} suite on {db}: {outcome.line()} ==", flush=True)
    return outcome


def databases() -> list[tuple[str, dict[str, str]]]:
    explicit = os.environ.get("TEST_DATABASE_URL", "")
    env_sqlite = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    found = [("SQLite", env_sqlite)]
    if not (explicit or os.environ.get("CI")) and not reachable():
        print("== PostgreSQL not reachable at 127.0.0.1:5432: its runs are skipped "
              "(set TEST_DATABASE_URL or CI=1 to require it) ==", flush=True)
    else:
        found.append(("PostgreSQL", {**os.environ, "TEST_DATABASE_URL": explicit or DEFAULT_PG}))
    return found


def parse(argv: list[str]) -> tuple[list[str], int, int | None, list[str]]:
    suites, workers, seed = ["default"], int(os.environ.get("WORKERS", "2")), None
    rest = list(argv)
    while rest and rest[0].startswith("--") and rest[0].split("=")[0] in (
            "--all", "--reliability", "--workers", "--random-order"):
        option = rest.pop(0)
        if option == "--all":
            suites = ["default", "reliability"]
        elif option == "--reliability":
            suites = ["reliability"]
        elif option == "--workers":
            workers = int(rest.pop(0))
        elif option.startswith("--random-order"):
            seed = int(option.split("=", 1)[1]) if "=" in option else random.randrange(10**6)
    return suites, workers, seed, rest


def main(argv: list[str]) -> int:
    suites, workers, seed, rest = parse(argv)
    order = [] if seed is None else ["--random-order", f"--random-order-seed={seed}"]
    if seed is not None:
        print(f"== random order, seed {seed} (replay: --random-order={seed}) ==", flush=True)
    results: list[tuple[str, Outcome]] = []
    started, cpu0 = time.monotonic(), children_cpu()
    with tempfile.TemporaryDirectory(prefix="coalition-junit-") as scratch:
        for suite in suites:
            for db, env in databases():
                results.append((f"{suite} suite on {db}",
                                run_part(suite, db, env, rest, workers, order, Path(scratch))))
    print("== summary ==", flush=True)
    for name, outcome in results:
        print(f"   {name}: {outcome.line()}{'' if not any(outcome.codes) else '  FAILED'}")
    print(f"   all parts: {time.monotonic() - started:.0f} s wall, "
          f"{children_cpu() - cpu0:.0f} s CPU"
          f"{'' if seed is None else f', random order seed {seed}'}", flush=True)
    return next((code for _, o in results for code in o.codes if code), 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Run the test suites once per database, and print what each part cost.

    tools/run_tests.py [pytest args]                  the default suite on SQLite, then PostgreSQL
    tools/run_tests.py --reliability [pytest args]    the reliability suite (`make reliability`)
    tools/run_tests.py --all [pytest args]            both suites on both databases (`make test`)

Options before the pytest arguments:
    --workers N           test processes for the parallel phase (default 2, WORKERS in the
                          environment; 0 runs everything in this process, serially)
    --random-order=SEED   replay the order of an earlier run: every run shuffles the tests of
                          every part (pytest-random-order) with a new seed, printed at the start
                          and in the summary, so that no test can come to need another's leftovers
    --in-order            the files' own order (to tell an order problem from another)

A part is one suite on one database; a full run goes in three stages (STAGES below):

1. the default suite's parallel phase, SQLite and PostgreSQL side by side, each on N workers
   (pytest-xdist; every worker has its own SQLite files, PostgreSQL databases and emulator port):
   most of a test's time is spent waiting on sockets and clocks, so four workers share two cores;
2. the default suite's tests marked `serial` (they measure real seconds or kill processes: the
   pacer, the delivery engine, the crash test), one database after the other, alone;
3. the reliability suite (`tests/reliability`, marked `reliability`: failover, two instances,
   fault rates, the database away, random updates), one database after the other, alone.

After each part the runner prints its wall time (the sum of its phases'), the CPU time of its
processes, and its test counts; a full run (no pytest arguments) also fails a part that collected
fewer tests than the floor below, so that a suite cannot shrink unnoticed.

PostgreSQL is TEST_DATABASE_URL, or the local server at 127.0.0.1:5432 (user postgres, trust
auth) when that is reachable. With CI or TEST_DATABASE_URL set, PostgreSQL is required: an
unreachable server fails the run (conftest.py exits), it is never skipped silently.
"""

from __future__ import annotations

import os
import random
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
# The fewest tests a full run of each suite may collect, per database: 587590e had 385 and 10
# (issue 20); raised as tests are added (406 with issue 21's).
FLOOR = {"default": 406, "reliability": 10}


@dataclass
class Phase:
    """One pytest run of a part: which tests, on how many workers, and whether it may share the
    machine with another part's run (see STAGES)."""

    name: str
    args: list[str]
    parallel: bool


@dataclass
class Outcome:
    """What one part ran: counts from pytest's JUnit XML, wall time as the sum of its phases'
    and CPU time from the resource usage of each pytest process (xdist workers included: pytest
    waits for them), read with wait4, so that parts running side by side are told apart."""

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
    "default": {
        "parallel": Phase("parallel", ["-m", "not reliability and not serial"], parallel=True),
        "serial": Phase("serial", ["-m", "not reliability and serial"], parallel=False),
    },
    "reliability": {
        "serial": Phase("serial", ["-m", "reliability", "tests/reliability"], parallel=False),
    },
}
# The order of a full run. Within a stage the two databases' runs go side by side (each its own
# processes, files, databases and emulator ports), because most of a test's time is spent
# waiting on sockets and clocks, not on the CPU; `alone` stages run one database at a time,
# because their tests measure real seconds (the pacer, the delivery engine) or kill processes
# at moments chosen by the rate of sends.
STAGES: list[tuple[str, str, bool]] = [
    ("default", "parallel", False),
    ("default", "serial", True),
    ("reliability", "serial", True),
]


def reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def count(junit: Path, outcome: Outcome) -> None:
    if not junit.exists():
        return
    for suite in ET.parse(junit).getroot().iter("testsuite"):  # noqa: S314 - pytest wrote it
        outcome.tests += int(suite.get("tests", 0))
        outcome.failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        outcome.skipped += int(suite.get("skipped", 0))


@dataclass
class Run:
    """One phase of one part, started: its process and, when it shares the machine, the file
    its output goes to until it ends (then it is printed whole, so that parts never interleave)."""

    suite: str
    db: str
    phase: Phase
    junit: Path
    started: float
    process: subprocess.Popen[bytes]
    log: Path | None


def start(suite: str, phase: Phase, db: str, env: dict[str, str], argv: list[str],
          workers: int, order: list[str], scratch: Path, shared: bool) -> Run:
    junit = scratch / f"{suite}-{db}-{phase.name}.xml"
    spread = ["-n", str(workers), "--dist", "load"] if phase.parallel and workers else []
    print(f"== {suite} suite on {db}, {phase.name} phase"
          f"{f' ({workers} workers)' if spread else ''}"
          f"{' (beside the other database; its output follows when it ends)' if shared else ''}"
          " ==", flush=True)
    cmd = [sys.executable, "-m", "pytest", *phase.args, *spread, *order,
           f"--junitxml={junit}", *argv]
    log = scratch / f"{suite}-{db}-{phase.name}.log" if shared else None
    out = log.open("wb") if log else None
    try:
        process = subprocess.Popen(cmd, env=env, stdout=out or None,
                                   stderr=subprocess.STDOUT if out else None)
    finally:
        if out:
            out.close()
    return Run(suite, db, phase, junit, time.monotonic(), process, log)


def finish(run: Run, outcome: Outcome) -> None:
    _, status, usage = os.wait4(run.process.pid, 0)
    run.process.returncode = os.waitstatus_to_exitcode(status)
    outcome.wall += time.monotonic() - run.started
    outcome.cpu += usage.ru_utime + usage.ru_stime
    if run.log:
        print(f"== {run.suite} suite on {run.db}, {run.phase.name} phase: its output ==",
              flush=True)
        sys.stdout.buffer.write(run.log.read_bytes())
        sys.stdout.flush()
    code = run.process.returncode
    outcome.codes.append(0 if code == NO_TESTS_SELECTED else code)
    count(run.junit, outcome)


def check_floor(suite: str, db: str, outcome: Outcome, argv: list[str]) -> None:
    if not argv and outcome.tests < FLOOR[suite]:
        print(f"== {suite} suite on {db}: {outcome.tests} tests collected, fewer than the "
              f"floor of {FLOOR[suite]} (tools/run_tests.py FLOOR) ==", flush=True)
        outcome.codes.append(1)


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
    suites, workers = ["default"], int(os.environ.get("WORKERS", "2"))
    seed: int | None = random.randrange(10**6)
    rest = list(argv)
    while rest and rest[0].startswith("--") and rest[0].split("=")[0] in (
            "--all", "--reliability", "--workers", "--random-order", "--in-order"):
        option = rest.pop(0)
        if option == "--all":
            suites = ["default", "reliability"]
        elif option == "--reliability":
            suites = ["reliability"]
        elif option == "--workers":
            workers = int(rest.pop(0))
        elif option == "--in-order":
            seed = None
        elif option.startswith("--random-order") and "=" in option:
            seed = int(option.split("=", 1)[1])
    return suites, workers, seed, rest


def main(argv: list[str]) -> int:
    suites, workers, seed, rest = parse(argv)
    order = [] if seed is None else ["--random-order", f"--random-order-seed={seed}"]
    if seed is not None:
        print(f"== random order, seed {seed} (replay: --random-order={seed}) ==", flush=True)
    dbs = databases()
    outcomes = {(suite, db): Outcome() for suite in suites for db, _ in dbs}
    started = time.monotonic()
    cpu = 0.0
    with tempfile.TemporaryDirectory(prefix="coalition-junit-") as scratch:
        for suite, phase_name, alone in STAGES:
            if suite not in suites:
                continue
            phase = SUITES[suite][phase_name]
            if alone or len(dbs) == 1:
                for db, env in dbs:
                    run = start(suite, phase, db, env, rest, workers, order, Path(scratch), False)
                    finish(run, outcomes[suite, db])
            else:
                runs = [start(suite, phase, db, env, rest, workers, order, Path(scratch), True)
                        for db, env in dbs]
                for run in runs:
                    finish(run, outcomes[suite, run.db])
            if phase_name == list(SUITES[suite])[-1]:
                for db, _ in dbs:
                    check_floor(suite, db, outcomes[suite, db], rest)
                    print(f"== {suite} suite on {db}: {outcomes[suite, db].line()} ==",
                          flush=True)
    print("== summary (a part's wall time is the sum of its phases'; parts of one stage ran "
          "side by side) ==", flush=True)
    for (suite, db), outcome in outcomes.items():
        cpu += outcome.cpu
        print(f"   {suite} suite on {db}: {outcome.line()}"
              f"{'' if not any(outcome.codes) else '  FAILED'}")
    print(f"   all parts: {time.monotonic() - started:.0f} s wall, {cpu:.0f} s CPU"
          f"{'' if seed is None else f', random order seed {seed}'}", flush=True)
    return next((code for o in outcomes.values() for code in o.codes if code), 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

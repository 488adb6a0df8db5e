"""Delivery benchmark: the bot's fan-out against the emulator, beside a tutorial's broadcast loop.

Every scenario gets a fresh emulator in its OWN process (``python -m bot.emulator``, strict
checking on, clock scale 1: real time) and a fresh worker process that runs either the real bot
(``BotService`` with a fresh SQLite file, one ``outbox.enqueue`` of one message per chat) or "the
broadcaster of a typical tutorial" (a plain ``telegram.Bot`` looping ``send_message`` with
``asyncio.sleep(0.05)`` between sends and no retry). The audience (half private chats that
started the bot, half groups the bot is in) is made with the emulator's ``populate`` control verb.

Scenarios:
- limited: rate limits on, for each of ``--sizes``; target: wall time <= chats / 28.5 s, no chat
  without a copy, no duplicates, at most 1% of the sends answered 429.
- unlimited: rate limits off, ``--unlimited-size`` chats, the bot's pacer rate raised to 100,000/s,
  once per ``--concurrency`` value; targets: >= 1,000 deliveries/s (or >= 80% of what the emulator
  alone serves, see bench/emulator_throughput.py), bot CPU < 2 ms per delivery; peak RSS reported.
- tutorial: the loop above, with limits on (each of ``--sizes``) and off (``--unlimited-size``).

Wall time runs from just before the enqueue to the last recorded answer (the sender's last write
of outbox rows); for the tutorial, from the first send to the last answer. Copies, duplicates and
429s are counted by the emulator (metrics and request log). CPU and peak RSS are the worker's own
(``time.process_time()``, ``ru_maxrss``), so every scenario starts clean.

    .venv/bin/python bench/delivery.py                       # everything (about 35 minutes)
    .venv/bin/python bench/delivery.py --sizes 1000 --skip-tutorial --concurrency 16   # quick
    .venv/bin/python bench/delivery.py --skip-limited --skip-tutorial --profile /tmp/prof
    .venv/bin/python bench/delivery.py --skip-limited --skip-tutorial --concurrency 16 \
        --worker-prefix "py-spy record --gil -f raw -o /tmp/{name}.txt --"   # all threads, C too
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAEmulatorTestTokenForCoalitionBot01"
TARGET_RATE = 28.5  # chats a second the limited fan-out must average
TUTORIAL_SLEEP = 0.05
TEXT = (
    "Alerta de la coalicion: la comision de gobernacion discute hoy la reforma a la ley de "
    "organizaciones de la sociedad civil. Pedimos a cada organizacion que escriba a sus "
    "diputadas y diputados antes de las 18 horas, que comparta el posicionamiento conjunto en "
    "sus redes y que confirme en el grupo de coordinacion quien asistira a la audiencia publica "
    "del jueves. Los materiales, la lista de contactos y el calendario estan en la carpeta "
    "compartida de la coalicion. Gracias por sostener este trabajo colectivo. #bench"
)


# -- the emulator in its own process -------------------------------------------------------------
class EmulatorProcess:
    def __init__(self, rate_limits: bool) -> None:
        argv = [sys.executable, "-m", "bot.emulator", "--port", "0", "--token", TOKEN]
        if not rate_limits:
            argv.append("--no-rate-limits")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        urls: dict[str, str] = {}
        while len(urls) < 2:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the emulator exited before printing its URLs")
            key, _, value = line.partition(":")
            if key in ("base URL", "control URL"):
                urls[key] = value.strip()
        self.base_url, self.control_url = urls["base URL"], urls["control URL"]
        self.http = httpx.Client(timeout=120)

    def post(self, verb: str, body: dict[str, Any]) -> Any:
        r = self.http.post(f"{self.control_url}/{verb}", json=body)
        data = r.json()
        if r.status_code != 200:
            raise RuntimeError(f"{verb}: {data}")
        return data["result"]

    def get(self, what: str) -> Any:
        r = self.http.get(f"{self.control_url}/{what}")
        r.raise_for_status()
        return r.json()

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- results -------------------------------------------------------------------------------------
@dataclass
class Scenario:
    kind: str  # "bot" | "tutorial"
    chats: int
    limits: bool
    concurrency: int = 8

    @property
    def name(self) -> str:
        who = "bot" if self.kind == "bot" else "tutorial"
        return f"{who} limits {'on' if self.limits else 'off'}"


@dataclass
class Row:
    scenario: Scenario
    wall_s: float = 0.0
    delivered: int = 0
    missing: int = 0
    duplicates: int = 0
    send_requests: int = 0
    answered_429: int = 0
    failed: int = 0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    emu_cpu_s: float = 0.0
    emu_peak_rss_mb: float = 0.0
    violations: int = 0
    load: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def share_429(self) -> float:
        return self.answered_429 / self.send_requests if self.send_requests else 0.0

    @property
    def per_second(self) -> float:
        return self.delivered / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_s / self.delivered if self.delivered else 0.0


def scenario_id(sc: Scenario) -> str:
    limits = "on" if sc.limits else "off"
    return f"{sc.kind}-{sc.chats}-limits-{limits}" + (f"-c{sc.concurrency}" if sc.kind == "bot"
                                                     else "")


def run_scenario(sc: Scenario, args: argparse.Namespace) -> Row:
    load0 = os.getloadavg()[0]
    emu = EmulatorProcess(rate_limits=sc.limits)
    try:
        made = emu.post("populate", {"private": sc.chats // 2, "groups": sc.chats - sc.chats // 2})
        private, groups = made["private"], made["groups"]
        chats = [c for pair in zip(private, groups, strict=False) for c in pair]
        chats += private[len(groups):] + groups[len(private):]
        with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
            spec = {"scenario": asdict(sc), "base_url": emu.base_url,
                    "control_url": emu.control_url, "chats": chats, "dir": tmp,
                    "profile": args.profile}
            spec_path = Path(tmp) / "spec.json"
            spec_path.write_text(json.dumps(spec))
            cpu0 = emu.cpu_seconds()
            prefix = shlex.split(args.worker_prefix.format(name=scenario_id(sc)))
            worker = subprocess.run(
                [*prefix, sys.executable, str(Path(__file__).resolve()), "--worker",
                 str(spec_path)],
                cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                text=True, timeout=max(600.0, 3 * sc.chats / TARGET_RATE + 120),
            )
            emu_cpu = emu.cpu_seconds() - cpu0
        result = None
        for line in worker.stdout.splitlines():
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT "):])
        if result is None:
            raise RuntimeError(f"the worker failed ({worker.returncode}):\n"
                               f"{worker.stdout[-3000:]}\n{worker.stderr[-5000:]}")
        if worker.stderr.strip():
            tail = worker.stderr.strip().splitlines()[-5:]
            print("  worker stderr (last lines):", *tail, sep="\n    ", flush=True)
        metrics = emu.get("metrics")
        requests = emu.get("requests")
        violations = emu.get("violations")
        row = Row(sc, emu_cpu_s=emu_cpu, emu_peak_rss_mb=emu.peak_rss_mb(),
                  violations=len(violations))
    finally:
        emu.stop()
    wanted = set(chats)
    per_chat = {int(k): v for k, v in metrics["sends_per_chat"].items()}
    row.missing = sum(1 for c in chats if per_chat.get(c, 0) == 0)
    row.duplicates = sum(per_chat.get(c, 0) - 1 for c in chats if per_chat.get(c, 0) > 1)
    sends = [r for r in requests if r["method"] == "sendMessage" and r["chat_id"] in wanted]
    row.send_requests = len(sends)
    row.answered_429 = sum(1 for r in sends if r["status"] == 429)
    statuses = Counter(r["status"] for r in sends)
    row.wall_s = result["wall_s"]
    row.delivered = sum(1 for c in chats if per_chat.get(c, 0) > 0)
    row.failed = result.get("failed", 0)
    row.cpu_s = result["cpu_s"]
    row.peak_rss_mb = result["peak_rss_mb"]
    row.load = f"{load0:.2f}->{os.getloadavg()[0]:.2f}"
    row.extra = {**result.get("extra", {}), "statuses": dict(statuses),
                 "emulator_429s": metrics["too_many_requests"],
                 "emulator_duplicates": metrics["duplicates"]}
    return row


# -- the workers ---------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _loop_lag(stats: dict[str, float], stop: asyncio.Event) -> None:
    """How late the event loop wakes a 10 ms sleeper (stalls make paced sends bunch up)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(0.01)
        lag = loop.time() - t - 0.01
        stats["max_ms"] = max(stats["max_ms"], lag * 1000)
        if lag > 0.030:
            stats["over_30ms"] += 1


def _dump_profile(profiler: Any, folder: str, name: str) -> None:
    Path(folder).mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(Path(folder) / name))


async def bot_worker(spec: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import func, select

    from bot.app import BotService
    from bot.config import Settings
    from bot.db.models import OutboxRow
    from bot.delivery import outbox

    sc = Scenario(**spec["scenario"])
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN, telegram_api_base_url=spec["base_url"],
        database_url=f"sqlite+aiosqlite:///{spec['dir']}/bench.db", coordinator_ids=(),
        default_language="es", timezone="America/Mexico_City", log_level="WARNING",
        sweep_interval=2.0, poll_timeout=10, clock_url=spec["control_url"] + "/clock",
    )
    service = BotService(settings, send_concurrency=sc.concurrency)
    await service.start()
    if not sc.limits:
        service.pacer.rate = 100_000
    sender = service.sender
    timing = {"writes": 0, "write_s": 0.0, "claims": 0, "claim_s": 0.0, "last_write": 0.0,
              "write_max_s": 0.0, "claim_max_s": 0.0}
    real_write, real_claim = sender._write, sender._feed

    async def timed_write(values: list[dict[str, Any]]) -> None:
        t = time.perf_counter()
        await real_write(values)
        timing["writes"] += 1
        timing["last_write"] = time.perf_counter()
        timing["write_s"] += timing["last_write"] - t
        timing["write_max_s"] = max(timing["write_max_s"], timing["last_write"] - t)

    async def timed_claim(limit: int) -> Any:
        """The sender's read of due rows (a batch for its workers)."""
        t = time.perf_counter()
        rows = await real_claim(limit)
        if rows:
            took = time.perf_counter() - t
            timing["claims"] += 1
            timing["claim_s"] += took
            timing["claim_max_s"] = max(timing["claim_max_s"], took)
        return rows

    real_sleep = sender._sleep
    idle = {"sleeps": 0, "sleep_s": 0.0, "full_sleeps_with_free_workers": 0}

    async def timed_sleep(seconds: float) -> None:
        """The sender loop's nap: a full one while workers are free means a wake-up was lost."""
        t = time.perf_counter()
        await real_sleep(seconds)
        took = time.perf_counter() - t
        idle["sleeps"] += 1
        idle["sleep_s"] += took
        if took >= 0.95 * seconds and sender._busy < sender.concurrency \
                and not sender._queue.empty():
            idle["full_sleeps_with_free_workers"] += 1

    jumps = {"syncs": 0, "back_max_ms": 0.0, "fwd_max_ms": 0.0}
    real_sync = service.clock.sync

    async def timed_sync() -> None:
        """How far each re-synchronisation moves the bot's clock (it follows the emulator's)."""
        before = service.clock.timestamp()
        await real_sync()
        jump = 1000 * (service.clock.timestamp() - before)
        jumps["syncs"] += 1
        jumps["back_max_ms"] = max(jumps["back_max_ms"], -jump)
        jumps["fwd_max_ms"] = max(jumps["fwd_max_ms"], jump)

    service.clock.sync = timed_sync  # type: ignore[method-assign]
    sender._write = timed_write  # type: ignore[method-assign]
    sender._feed = timed_claim  # type: ignore[method-assign]
    sender._sleep = timed_sleep  # type: ignore[method-assign]
    await asyncio.sleep(1.0)  # let start-up requests (getMe, setMyCommands...) settle
    idle.update(sleeps=0, sleep_s=0.0, full_sleeps_with_free_workers=0)
    lag = {"max_ms": 0.0, "over_30ms": 0}
    stop = asyncio.Event()
    lag_task = asyncio.create_task(_loop_lag(lag, stop))
    profiler = None
    if spec.get("profile") and not sc.limits:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    if hasattr(service.pacer, "idle_s"):
        service.pacer.idle_s = 0.0
    t0, cpu0 = time.perf_counter(), time.process_time()
    async with service.db.transaction() as session:
        fanout_id = await outbox.enqueue(
            session, "bench", "bench", [outbox.Outgoing(chat_id=c, text=TEXT)
                                        for c in spec["chats"]], service.clock.now())
    enqueue_s = time.perf_counter() - t0
    sender.wake()
    pending_q = select(func.count()).where(OutboxRow.fanout_id == fanout_id,
                                           OutboxRow.state.in_(("queued", "sending")))
    deadline = t0 + 3 * sc.chats / TARGET_RATE + 60
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.2)
        async with service.db.sessions() as session:
            if (await session.execute(pending_q)).scalar_one() == 0:
                break
    cpu = time.process_time() - cpu0
    if profiler is not None:
        profiler.disable()
        _dump_profile(profiler, spec["profile"], f"bot-c{sc.concurrency}-{sc.chats}.prof")
    stop.set()
    await lag_task
    async with service.db.sessions() as session:
        status = await outbox.status(session, fanout_id)
    limiter = getattr(service.application.bot, "rate_limiter", None)
    extra = {
        "enqueue_s": round(enqueue_s, 3), "states": status.counts, "reasons": status.reasons,
        "possibly_duplicated": status.possibly_duplicated,
        "bot_429s": getattr(limiter, "hits_429", None),
        "pacer_waited_s": round(service.pacer.waited_s, 1),
        "pacer_window_waits": getattr(service.pacer, "window_waits", None),
        "pacer_idle_s": round(getattr(service.pacer, "idle_s", 0.0), 2),
        "clock_syncs": jumps["syncs"], "clock_back_max_ms": round(jumps["back_max_ms"], 1),
        "clock_fwd_max_ms": round(jumps["fwd_max_ms"], 1),
        "write_ms_max": round(1000 * timing["write_max_s"], 1),
        "claim_ms_max": round(1000 * timing["claim_max_s"], 1),
        "claims": timing["claims"], "claim_ms_avg": round(
            1000 * timing["claim_s"] / max(1, timing["claims"]), 2),
        "writes": timing["writes"], "write_ms_avg": round(
            1000 * timing["write_s"] / max(1, timing["writes"]), 2),
        "loop_lag_max_ms": round(lag["max_ms"], 1), "loop_stalls_over_30ms": lag["over_30ms"],
        "sender_sleeps": idle["sleeps"], "sender_sleep_s": round(idle["sleep_s"], 1),
        "sender_full_sleeps_with_free_workers": idle["full_sleeps_with_free_workers"],
    }
    wall = (timing["last_write"] or time.perf_counter()) - t0
    await service.stop()
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": _peak_rss_mb(),
            "failed": status.counts["failed"] + status.counts["unreachable"] + status.pending,
            "extra": extra}


async def tutorial_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """The broadcaster of a typical tutorial: no pacing but a sleep, no retry."""
    from telegram import Bot
    from telegram.error import TelegramError

    errors: Counter[str] = Counter()
    bot = Bot(TOKEN, base_url=spec["base_url"])
    async with bot:
        t0, cpu0 = time.perf_counter(), time.process_time()
        last = t0
        for chat_id in spec["chats"]:
            try:
                await bot.send_message(chat_id, TEXT)
            except TelegramError as exc:  # lost: the tutorial does not retry
                errors[type(exc).__name__] += 1
            last = time.perf_counter()
            await asyncio.sleep(TUTORIAL_SLEEP)
        cpu = time.process_time() - cpu0
    return {"wall_s": last - t0, "cpu_s": cpu, "peak_rss_mb": _peak_rss_mb(),
            "failed": sum(errors.values()), "extra": {"errors": dict(errors)}}


def worker_main(spec_path: str) -> None:
    sys.path.insert(0, str(ROOT))
    spec = json.loads(Path(spec_path).read_text())
    run = bot_worker if spec["scenario"]["kind"] == "bot" else tutorial_worker
    result = asyncio.run(run(spec))
    print("RESULT " + json.dumps(result), flush=True)


# -- the table -----------------------------------------------------------------------------------
HEADER = (f"{'scenario':<19} {'chats':>6} {'conc':>4} {'wall s':>8} {'target':>7} "
          f"{'deliv/s':>8} {'missing':>7} {'dups':>5} {'429 %':>7} {'cpu ms':>7} "
          f"{'RSS MB':>7} {'emu cpu':>8}")


def line(row: Row) -> str:
    sc = row.scenario
    target = f"{sc.chats / TARGET_RATE:7.1f}" if sc.limits else f"{'':>7}"
    conc = str(sc.concurrency) if sc.kind == "bot" else "-"
    return (f"{sc.name:<19} {sc.chats:>6} {conc:>4} {row.wall_s:>8.1f} {target} "
            f"{row.per_second:>8.1f} {row.missing:>7} {row.duplicates:>5} "
            f"{100 * row.share_429:>6.2f}% {row.cpu_ms:>7.3f} {row.peak_rss_mb:>7.0f} "
            f"{row.emu_cpu_s:>7.1f}s")


def verdicts(row: Row, emulator_rate: float = 0.0) -> list[str]:
    sc = row.scenario
    out = [f"missing {'ok' if row.missing == 0 else 'MISSED'}",
           f"dups {'ok' if row.duplicates == 0 else 'MISSED'}"]
    if sc.limits:
        ok = row.wall_s <= sc.chats / TARGET_RATE
        out += [f"time {'ok' if ok else 'MISSED'}",
                f"429<=1% {'ok' if row.share_429 <= 0.01 else 'MISSED'}"]
    else:
        out += [f">=1000/s {'ok' if row.per_second >= 1000 else 'MISSED'}"]
        if emulator_rate:
            share = row.per_second / emulator_rate
            out += [f"{100 * share:.0f}% of the emulator alone "
                    f"({'ok' if share >= 0.8 else 'MISSED'} for 80%)"]
        out += [f"cpu<2ms {'ok' if row.cpu_ms < 2 else 'MISSED'}"]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,5000,10000", help="chats for the limited runs")
    p.add_argument("--unlimited-size", type=int, default=10_000)
    p.add_argument("--concurrency", default="8,16,32", help="send_concurrency values (unlimited)")
    p.add_argument("--limited-concurrency", type=int, default=8)
    p.add_argument("--skip-limited", action="store_true")
    p.add_argument("--skip-unlimited", action="store_true")
    p.add_argument("--skip-tutorial", action="store_true")
    p.add_argument("--profile", default=None, help="dump cProfile stats of unlimited bot runs here")
    p.add_argument("--json", default=None, help="also write the rows to this file")
    p.add_argument("--worker-prefix", default="",
                   help="a command put before each worker, {name} = the scenario, e.g. "
                   "'py-spy record -f raw -o /tmp/{name}.txt --'")
    p.add_argument("--emulator-rate", type=float, default=0.0,
                   help="requests/s the emulator alone serves (bench/emulator_throughput.py), "
                   "for the 80%% target")
    p.add_argument("--label", default="", help="printed in the header (e.g. the commit)")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker_main(args.worker)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    levels = [int(s) for s in args.concurrency.split(",") if s]
    scenarios: list[Scenario] = []
    if not args.skip_unlimited:
        scenarios += [Scenario("bot", args.unlimited_size, False, c) for c in levels]
        if not args.skip_tutorial:
            scenarios.append(Scenario("tutorial", args.unlimited_size, False))
    if not args.skip_limited:
        scenarios += [Scenario("bot", n, True, args.limited_concurrency) for n in sizes]
        if not args.skip_tutorial:
            scenarios += [Scenario("tutorial", n, True) for n in sizes]
    started = datetime.now().astimezone()
    machine = (f"{platform.node()}, {os.cpu_count()} cores, {platform.processor() or '?'}, "
               f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    label = f" [{args.label}]" if args.label else ""
    print(f"delivery benchmark{label}, {started:%Y-%m-%d %H:%M %Z}; {machine}", flush=True)
    print("emulator in its own process: strict checking on, clock scale 1; SQLite file DB; "
          f"message of {len(TEXT)} characters; half private chats, half groups", flush=True)
    rows = []
    for sc in scenarios:
        print(f"-- {sc.name}, {sc.chats} chats, concurrency {sc.concurrency} ...", flush=True)
        row = run_scenario(sc, args)
        rows.append(row)
        print("  " + line(row), flush=True)
        print(f"  {', '.join(verdicts(row, args.emulator_rate))}; load {row.load}; "
              f"violations {row.violations}; emulator peak RSS {row.emu_peak_rss_mb:.0f} MB",
              flush=True)
        print(f"  {json.dumps(row.extra)}", flush=True)
    print()
    minutes = (time.time() - started.timestamp()) / 60
    print(f"delivery benchmark{label}, {started:%Y-%m-%d %H:%M %Z}, {minutes:.1f} min; "
          f"{machine}")
    print(HEADER)
    for row in rows:
        print(line(row))
    print("target = chats / 28.5 s (limits on); cpu ms = worker CPU per delivered chat; "
          "RSS = worker peak; emu cpu = emulator process CPU during the run")
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{**asdict(r), "share_429": r.share_429, "per_second": r.per_second,
              "cpu_ms": r.cpu_ms} for r in rows], indent=2))


if __name__ == "__main__":
    main()

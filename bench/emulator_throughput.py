"""Throughput of the Bot API emulator: sendMessage requests a second with strict checking on.

Starts the emulator in its own process (``python -m bot.emulator``), registers users through the
control API, then fires form-encoded sendMessage requests (as PTB sends them) from several
concurrent aiohttp clients in this process. Phase 1 runs with rate limits off and prints requests
a second; phase 2 switches the limits on and shows that about 30 sends a second pass overall and
the rest get 429 with retry_after.

    .venv/bin/python bench/emulator_throughput.py [--seconds 5] [--clients 16] [--chats 50]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCH-TOKEN"


def start_emulator() -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.emulator", "--token", TOKEN, "--no-rate-limits"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    urls: dict[str, str] = {}
    while len(urls) < 2:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator exited before printing its URLs")
        key, _, value = line.partition(":")
        if key in ("base URL", "control URL"):
            urls[key] = value.strip()
    return proc, urls["base URL"], urls["control URL"]


async def control(session: aiohttp.ClientSession, url: str, verb: str, body: dict) -> dict:
    async with session.post(f"{url}/{verb}", json=body) as r:
        data = await r.json()
        if r.status != 200:
            raise RuntimeError(f"{verb}: {data}")
        return data["result"]


async def fire(
    session: aiohttp.ClientSession,
    url: str,
    chats: list[int],
    seconds: float,
    clients: int,
) -> collections.Counter[int]:
    statuses: collections.Counter[int] = collections.Counter()
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        i = n
        while time.perf_counter() < deadline:
            chat = chats[i % len(chats)]
            i += clients
            form = {
                "chat_id": str(chat),
                "text": f"<b>Alerta</b> número {i}",
                "parse_mode": "HTML",
                "reply_markup": json.dumps(
                    {"inline_keyboard": [[{"text": "Leído", "callback_data": f"v1:ack:{i}"}]]}
                ),
            }
            async with session.post(url, data=form) as r:
                await r.read()
                statuses[r.status] += 1

    await asyncio.gather(*(worker(n) for n in range(clients)))
    return statuses


async def run(args: argparse.Namespace) -> None:
    proc, base_url, control_url = start_emulator()
    try:
        connector = aiohttp.TCPConnector(limit=args.clients)
        async with aiohttp.ClientSession(connector=connector) as session:
            chats = []
            for i in range(args.chats):
                user = await control(session, control_url, "add_user", {"first_name": f"U{i}"})
                await control(session, control_url, "send", {"user": user["id"], "text": "/start"})
                chats.append(user["id"])
            send_url = f"{base_url}{TOKEN}/sendMessage"
            await fire(session, send_url, chats, 0.5, args.clients)  # warm up

            t0 = time.perf_counter()
            statuses = await fire(session, send_url, chats, args.seconds, args.clients)
            elapsed = time.perf_counter() - t0
            total = sum(statuses.values())
            async with session.get(f"{control_url}/violations") as r:
                violations = await r.json()
            print(
                f"rate limits off, strict checking on, {args.clients} clients, {args.chats} chats"
            )
            print(f"  {total} requests in {elapsed:.1f} s: {total / elapsed:,.0f} requests/s")
            print(f"  statuses: {dict(statuses)}; strict violations: {len(violations)}")

            await control(session, control_url, "settings", {"rate_limits": True})
            await control(session, control_url, "advance", {"seconds": 120})
            t0 = time.perf_counter()
            statuses = await fire(session, send_url, chats, 3.0, args.clients)
            elapsed = time.perf_counter() - t0
            async with session.get(f"{control_url}/metrics") as r:
                metrics = await r.json()
            print("rate limits on (30/s overall, 5-burst then 1/s per private chat)")
            print(
                f"  {sum(statuses.values())} requests in {elapsed:.1f} s: "
                f"{statuses[200] / elapsed:.1f} accepted/s, {statuses[429]} answered 429"
            )
            print(f"  429s counted by the emulator: {metrics['too_many_requests']}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--chats", type=int, default=50)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()

"""``coalition-bot emulator``: run the emulator standalone until Ctrl-C.

``bot/cli.py`` calls ``main(argv)``; ``python -m bot.emulator`` does the same.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from bot.emulator.driver import Emulator


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="coalition-bot emulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = a free port")
    p.add_argument("--token", default="123456789:AAEmulatorTokenForLocalTesting_0001")
    p.add_argument("--bot-username", default="coalition_test_bot")
    p.add_argument("--no-rate-limits", action="store_true", help="switch the pinned limits off")
    p.add_argument("--no-strict", action="store_true", help="do not record strict violations")
    p.add_argument("--clock-scale", type=float, default=1.0, help="emulated seconds per second")
    return p.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    emu = Emulator(
        token=args.token,
        bot_username=args.bot_username,
        strict=not args.no_strict,
        rate_limits=not args.no_rate_limits,
        clock_scale=args.clock_scale,
        host=args.host,
        port=args.port,
    )
    await emu.start()
    print(f"base URL:    {emu.base_url}", flush=True)
    print(f"file URL:    {emu.base_file_url}", flush=True)
    print(f"control URL: {emu.control_url}", flush=True)
    print(f"token:       {emu.token}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emu.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0

"""`coalition-bot`: run the bot, apply migrations, or run the local Bot API emulator."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from telegram.error import InvalidToken, NetworkError

from bot.config import ConfigError, load_settings
from bot.logs import setup_logging

log = logging.getLogger("bot")


def _fail(message: str) -> int:
    print(f"coalition-bot: {message}", file=sys.stderr)
    return 2


async def _run() -> int:
    from bot.app import BotService

    settings = load_settings(require_token=True)
    setup_logging(settings.log_level, settings.secrets())
    service = BotService(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await service.run_until_stopped(stop)
    except InvalidToken:
        await service.stop()
        return _fail("Telegram refused TELEGRAM_BOT_TOKEN (invalid or revoked): get a new one "
                     "from @BotFather (/token) and put it in .env.")
    except NetworkError:
        await service.stop()
        return _fail(f"cannot reach the Bot API at TELEGRAM_API_BASE_URL "
                     f"({settings.telegram_api_base_url}): check the network or the setting.")
    return 0


async def _migrate() -> int:
    from bot.db.engine import Database
    from bot.db.migrate import upgrade_database

    settings = load_settings()
    setup_logging(settings.log_level, settings.secrets())
    db = Database(settings.database_url)
    try:
        await upgrade_database(db)
    finally:
        await db.dispose()
    print("database is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coalition-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (long polling; settings from the environment and .env)")
    sub.add_parser("migrate", help="apply the database migrations and exit")
    emulator = sub.add_parser("emulator", help="run the local Telegram Bot API emulator",
                              add_help=False)
    emulator.add_argument("rest", nargs=argparse.REMAINDER)
    args, rest = parser.parse_known_args(argv)
    if args.command == "emulator":
        from bot.emulator.cli import main as emulator_main

        return emulator_main([*args.rest, *rest])
    try:
        if args.command == "run":
            return asyncio.run(_run())
        if args.command == "migrate":
            return asyncio.run(_migrate())
    except ConfigError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

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


# Exit statuses from sysexits.h, so that a supervisor can tell a setting to fix (systemd's
# RestartPreventExitStatus, `make run`'s quiet stop) from a fault worth restarting for.
EX_UNAVAILABLE = 69  # the Bot API could not be reached
EX_CONFIG = 78  # a setting is missing or wrong (the token included): restarting cannot help


def _fail(message: str, status: int = EX_CONFIG) -> int:
    """Say in one line what to fix, on stderr, and return the exit status that says what kind."""
    print(f"coalition-bot: {message}", file=sys.stderr)
    return status


async def _run() -> int:
    from bot.app import BotService
    from bot.db.engine import DatabaseReplaced

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
    except DatabaseReplaced:
        await service.stop()
        return _fail(f"the database file ({settings.database_url.split(':///', 1)[-1]}) was "
                     "deleted or replaced while the bot ran; it stopped, so that nothing is "
                     "written where nobody will find it. Put the file back (or restore a backup), "
                     "then start it again.")
    except NetworkError:
        await service.stop()
        return _fail(f"cannot reach the Bot API at TELEGRAM_API_BASE_URL "
                     f"({settings.telegram_api_base_url}): check the network or the setting.",
                     EX_UNAVAILABLE)
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


async def _status() -> int:
    from bot.clock import Clock
    from bot.db.engine import Database
    from bot.services.shared import health

    settings = load_settings()
    db = Database(settings.database_url)
    try:
        async with db.reader() as session:
            found = await health.status(session, Clock().now())
    finally:
        await db.dispose()
    print(health.report(found))
    return 1 if found.problems else 0


async def _copy(target: str, dry_run: bool) -> int:
    from bot.db.copy import CopyError, copy_database

    settings = load_settings()
    setup_logging(settings.log_level, settings.secrets())
    try:
        counts = await copy_database(settings.database_url, target, dry_run=dry_run)
    except CopyError as exc:
        return _fail(str(exc))
    width = max((len(t) for t in counts), default=5)
    for table, count in counts.items():
        print(f"{table:<{width}}  {count}")
    print(("would copy" if dry_run else "copied") + f" {sum(counts.values())} rows")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coalition-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (long polling; settings from the environment and .env)")
    sub.add_parser("migrate", help="apply the database migrations and exit")
    sub.add_parser("status", help="queues, failures, what is due next, pending registrations "
                                  "(from the database; exit 1 when something is stuck)")
    sandbox = sub.add_parser("sandbox", help="try the real bot without Telegram: a sample "
                                             "coalition and a console (or --tour)")
    sandbox.add_argument("--tour", action="store_true",
                         help="play a short guided scenario and print what each chat saw")
    sandbox.add_argument("--chart", default="sandbox-poll-chart.png",
                         help="where the tour saves the poll's result chart")
    copy = sub.add_parser("copy-to-postgres",
                          help="copy this SQLite deployment into an empty PostgreSQL database")
    copy.add_argument("target", help="postgresql+asyncpg://user:password@host:5432/dbname")
    copy.add_argument("--dry-run", action="store_true", help="only count what would be copied")
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
        if args.command == "sandbox":
            if args.tour:
                from bot.sandbox.tour import run_tour

                return asyncio.run(run_tour(args.chart))
            from bot.sandbox.console import run_console

            return asyncio.run(run_console())
        if args.command == "status":
            return asyncio.run(_status())
        if args.command == "copy-to-postgres":
            return asyncio.run(_copy(args.target, args.dry_run))
    except ConfigError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

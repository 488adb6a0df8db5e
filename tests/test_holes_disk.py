"""What another account on the host could read (issue 21, item 15): the SQLite database, its
-wal and -shm files and its folder are the bot's user's alone; an existing database that others
could read is tightened at start, with one warning."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from bot.emulator import Emulator
from tests.conftest import PG_URL
from tests.org_helpers import ask

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="file modes are SQLite's; PostgreSQL "
                                "keeps its files in its own folder, 0700 by its packaging")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_database_is_owner_only(emu: Emulator, make_bot, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    db = folder / "coalition.db"
    await make_bot(database_url=f"sqlite+aiosqlite:///{db}")
    ana = emu.add_user("Ana", language_code="es")
    assert "¡Hola!" in (await ask(emu, ana, "/start")).text  # something written
    assert mode(folder) == 0o700
    found = {p.name: mode(p) for p in folder.iterdir()}
    assert found.keys() >= {"coalition.db", "coalition.db-wal", "coalition.db-shm"}
    assert set(found.values()) == {0o600}, found


async def test_an_open_database_is_tightened_with_a_warning(
        emu: Emulator, make_bot, database_url: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    db = folder / "coalition.db"
    shutil.copyfile(database_url.split(":///", 1)[1], db)
    db.chmod(0o644)
    await make_bot(database_url=f"sqlite+aiosqlite:///{db}")
    assert mode(db) == 0o600 and mode(folder) == 0o700
    warned = [r.getMessage() for r in caplog.records if "db.permissions_tightened" in
              r.getMessage()]
    assert warned and all(str(tmp_path) not in line for line in warned)


async def test_a_database_replaced_under_the_bot_stops_it_and_gets_no_write(
        emu: Emulator, database_url: str, tmp_path: Path) -> None:
    """Item 14: with the SQLite file deleted or replaced, the bot kept answering, /health said
    200, and after a restart everything was gone. Now /health says `database_replaced` within a
    beat, the process exits 78 (not restarted by systemd) with one line, and the file put in the
    old one's place gets no write."""
    import json
    import socket

    import aiohttp

    from tests.conftest import TOKEN
    from tests.process import BotProcess, bot_env

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    db = Path(database_url.split(":///", 1)[1])
    env = bot_env(emu, database_url, TOKEN, WEBHOOK_URL=f"http://127.0.0.1:{port}/tg/hook",
                  WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port))
    process = await BotProcess(env, tmp_path).start()
    ana = emu.add_user("Ana", language_code="es")
    sent = emu.send(ana, "/start")
    await emu.wait_for_bot_message(emu.private_chat(ana), after=sent, timeout=60)
    # Someone (a restore gone wrong, a clean-up script) puts another file in its place.
    stranger = tmp_path / "other.db"
    with open(stranger, "wb"):  # noqa: ASYNC230 - an empty file, at once
        pass
    os.replace(stranger, db)
    url = f"http://127.0.0.1:{port}/health"
    seen: list[tuple[int, dict]] = []

    async def unhealthy() -> bool:
        try:
            async with aiohttp.ClientSession() as http, http.get(url) as answer:
                seen.append((answer.status, json.loads(await answer.text())))
        except aiohttp.ClientError:
            return False
        return seen[-1][0] == 503

    from tests.helpers import eventually
    await eventually(unhealthy, timeout=15, what="/health saying the database was replaced")
    assert seen[-1][1]["problems"] == ["database_replaced"]
    emu.send(ana, "/help")  # an update now must not be written anywhere new
    assert await process.wait(timeout=30) == 78
    last = process.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("coalition-bot: the database file") and "replaced" in last
    assert os.stat(db).st_size == 0  # the new file got no write

"""Moving a deployment from SQLite to PostgreSQL (issue 14): a populated SQLite database (every
table non-empty) is copied with `coalition-bot copy-to-postgres`, ids and times intact; the bot
then runs on the copy: a broadcast, and a poll composed through /poll, voted on and closed, with
ids after the copied ones."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, func, insert, select
from sqlalchemy.types import TypeDecorator

from bot.app import BotService
from bot.cli import EX_CONFIG
from bot.clock import CallableClock
from bot.db.engine import Database
from bot.db.models import Base, Fanout, Organisation, OutboxRow, Poll, PollVote
from bot.delivery import outbox
from bot.emulator import Emulator
from bot.intake.webhook import stored_secret
from bot.services.membership import membership
from bot.services.safety import erasure
from tests.conftest import PG_URL, make_settings
from tests.helpers import eventually
from tests.org_helpers import ask, make_org
from tests.poll_helpers import closed_result, compose, last_poll, poll_message, traced, voted

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
async def empty_postgres() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (this test needs one in the SQLite run too)."""
    base_url = PG_URL or DEFAULT_PG
    dsn = base_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    name = f"cbcopy_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except Exception as exc:
        pytest.fail(f"PostgreSQL is needed for the copy test and is unreachable: {exc}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield f"{base_url.rsplit('/', 1)[0]}/{name}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _value(column: Any, existing: dict[str, dict[str, Any]], n: int) -> Any:
    """A plausible value for a column of a table the scenario left empty."""
    for fk in column.foreign_keys:
        return existing[fk.column.table.name][fk.column.name]
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl if not isinstance(kind.impl, type) else kind.impl()
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, Integer):
        return 900_000 + n
    if isinstance(kind, String | Text):
        length = getattr(kind, "length", None) or 20
        return f"x{n}"[:length]
    raise AssertionError(f"no filler for {column.table.name}.{column.name} ({kind!r})")


async def fill_empty_tables(db: Database) -> list[str]:
    """One generic row in every table the scenario did not reach (new capabilities' tables
    included), referencing existing rows; returns which tables needed it."""
    filled = []
    async with db.engine.begin() as conn:
        existing: dict[str, dict[str, Any]] = {}
        for n, table in enumerate(Base.metadata.sorted_tables):
            row = (await conn.execute(select(table).limit(1))).first()
            if row is None:
                values = {c.name: _value(c, existing, n) for c in table.columns
                          if not (c.primary_key and c.autoincrement is True)}
                await conn.execute(insert(table).values(**values))
                row = (await conn.execute(select(table).limit(1))).first()
                filled.append(table.name)
            assert row is not None
            existing[table.name] = dict(row._mapping)
    return filled


async def _all_sent(states: Any) -> bool:
    return await states() == ["sent"] * 3


async def table_counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {t.name: int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
                for t in Base.metadata.sorted_tables}


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "TELEGRAM_BOT_TOKEN": ""}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120, check=False)


async def test_copy_a_populated_sqlite_database_and_run_on_postgres(
        emu: Emulator, tmp_path: Path, empty_postgres: str) -> None:
    emu.clock.scale = 3.0
    sqlite_url = f"sqlite+aiosqlite:///{tmp_path / 'deployment.db'}"
    coco = emu.add_user("Coco", language_code="es")
    ana = emu.add_user("Ana", language_code="es")
    bo = emu.add_user("Bo", language_code="en")
    grp = emu.add_group("Red", members=[ana, bo], admins=[ana])

    def service_for(url: str) -> BotService:
        clock = CallableClock(emu.clock.now, scale=lambda: emu.clock.scale)
        return BotService(make_settings(emu, url, coordinator_ids=(coco.id,)), clock=clock,
                          chat_limits=emu.chat_limits)

    # A deployment's life on SQLite: people, organisations, a group, fan-outs, a flow left open.
    first = service_for(sqlite_url)
    await first.start()
    try:
        for person in (coco, ana, bo):
            await ask(emu, person, "/start")
        org = await make_org(first, ana.id, "Red Jalisco", coordinator=coco.id)
        await make_org(first, bo.id, "Bo's pending org", active=False)
        emu.add_bot(grp, by=ana)
        await ask(emu, ana, "/link", chat=grp)
        await ask(emu, coco, f"/coordinators add {bo.id}")
        # A poll through /poll (Bo, now a coordinator, composes in English), and Ana's vote.
        await compose(emu, bo, "Before the move?", ["Impuestos", "Registro"])
        await traced(first, (await last_poll(first)).id)
        emu.vote(ana, poll_message(emu, grp), [0])
        await voted(first, 1)
        await ask(emu, ana, "/invite")
        menu = await ask(emu, ana, "/lowprofile")
        emu.press(ana, menu, label="Activar")
        await emu.wait_for(lambda: "Activado" in emu.message(menu).text, what="low profile")
        await ask(emu, coco, "/register")  # an open guided flow (a conversation row)
        async with first.db.transaction() as session:
            await membership.audit(session, coco.id, "test.entry", first.clock.now(), org_id=org)
            await erasure.forget_person(session, 4242, first.clock.now())  # a counter row
            fanout = await outbox.enqueue(session, "before-move", "test", [
                outbox.Outgoing(chat_id=c, text="Before the move") for c in (ana.id, grp.id)],
                first.clock.now())
        first.sender.wake()
        await emu.wait_for(lambda: any(m.text == "Before the move"
                                       for m in emu.bot_messages(grp)), what="sent on SQLite")
        await stored_secret(first.db)
    finally:
        await first.stop()
    db = Database(sqlite_url)
    try:
        filled = await fill_empty_tables(db)
        before = await table_counts(db)
        async with db.sessions() as session:
            org_before = await session.get(Organisation, org)
            fanout_before = await session.get(Fanout, fanout)
            last_poll_id = (await session.execute(select(func.max(Poll.id)))).scalar_one()
            last_vote_id = (await session.execute(select(func.max(PollVote.id)))).scalar_one()
    finally:
        await db.dispose()
    assert all(before.values()), before
    assert {"people", "organisations", "contacts", "member_chats", "outbox", "fanouts",
            "saved_updates", "conversations", "invitations", "audit_log", "coordinators",
            "scheduled_tasks", "sent_messages", "anonymous_counts", "bot_state", "polls",
            "poll_copies", "poll_votes"}.isdisjoint(
                filled), f"the scenario should have filled these itself: {filled}"

    dry = await asyncio.to_thread(run_cli, "copy-to-postgres", empty_postgres, "--dry-run",
                                  database_url=sqlite_url)
    assert dry.returncode == 0, dry.stderr
    assert f"would copy {sum(before.values())} rows" in dry.stdout
    assert f"outbox  {before['outbox']}".replace("  ", " ") in " ".join(dry.stdout.split())
    done = await asyncio.to_thread(run_cli, "copy-to-postgres", empty_postgres,
                                   database_url=sqlite_url)
    assert done.returncode == 0, done.stderr
    assert f"copied {sum(before.values())} rows" in done.stdout
    again = await asyncio.to_thread(run_cli, "copy-to-postgres", empty_postgres,
                                    database_url=sqlite_url)
    assert again.returncode == EX_CONFIG and "not empty" in again.stderr

    target = Database(empty_postgres)
    try:
        assert await table_counts(target) == before
        async with target.sessions() as session:
            org_after = await session.get(Organisation, org)
            fanout_after = await session.get(Fanout, fanout)
        assert org_after is not None and fanout_after is not None
        assert (org_after.name, org_after.low_profile, org_after.created_at,
                org_after.areas) == (org_before.name, org_before.low_profile,
                                     org_before.created_at, org_before.areas)
        assert fanout_after.created_at == fanout_before.created_at
    finally:
        await target.dispose()

    # The bot on PostgreSQL: a broadcast, and a poll through /poll with a vote, all with new ids
    # after the copied ones (the copy moved the sequences).
    second = service_for(empty_postgres)
    await second.start()
    try:
        async with second.db.transaction() as session:
            broadcast = await outbox.enqueue(session, "after-move", "test", [
                outbox.Outgoing(chat_id=c, text="After the move") for c in (ana.id, bo.id, grp.id)],
                second.clock.now())
        assert broadcast > fanout
        second.sender.wake()
        for chat in (emu.private_chat(ana), emu.private_chat(bo), grp):
            await emu.wait_for(lambda chat=chat: any(m.text == "After the move"
                                                     for m in emu.bot_messages(chat)),
                               what="the broadcast on PostgreSQL")

        async def states() -> list[str]:
            async with second.db.sessions() as session:
                return sorted((await session.execute(select(OutboxRow.state).where(
                    OutboxRow.fanout_id == broadcast))).scalars().all())

        assert await eventually(lambda: _all_sent(states), timeout=10)

        done = await compose(emu, bo, "After the move?", ["Impuestos", "Registro"])
        assert "sent to 1 chat of 1 organisation" in done.text
        poll = await last_poll(second)
        assert poll.question == "After the move?" and poll.id > last_poll_id
        await traced(second, poll.id)
        copy = poll_message(emu, grp)
        assert copy.poll.question == "After the move?"
        emu.vote(ana, copy, [1])
        vote = next(v for v in await voted(second, 2) if v.poll_id == poll.id)
        assert vote.id > last_vote_id and vote.choices == [1]
        emu.clock.advance(2 * 86400 + 60)
        result = await closed_result(second, poll.id)
        assert result["headline"] == [0, 1] and result["voted_orgs"] == 1

        def shown() -> str | None:
            return next((m.text for m in emu.bot_messages(grp)
                         if "Resultados de la encuesta" in (m.text or "")
                         and "After the move?" in m.text), None)

        results = await emu.wait_for(shown, timeout=20, what="the results in the group")
        assert "Registro: 1 voto" in results and "Impuestos: 0 votos" in results
        assert "Participación: votaron 1 de 1 organización." in results
    finally:
        await second.stop()

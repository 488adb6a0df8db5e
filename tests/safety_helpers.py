"""Searching a database for what erasure must have removed: the SQLite file and its WAL byte by
byte, or every PostgreSQL row as text."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bot.db.models import Base, ScheduledTask


def _int_forms(value: int) -> list[bytes]:
    """How SQLite may store an integer in a record: big-endian in 6 or 8 bytes for ids this big
    (the tests use ids above 2^32), and as decimal text inside JSON."""
    forms = [str(value).encode()]
    for size in (6, 8):
        try:
            forms.append(value.to_bytes(size, "big", signed=True))
        except OverflowError:
            continue
    return forms


def _text_forms(name: str) -> list[bytes]:
    found = {name, html.escape(name), html.escape(name, quote=False)}
    found |= {json.dumps(f)[1:-1] for f in list(found)}
    return [f.encode() for f in found]


async def leftovers(service: Any, names: list[str], ids: list[int], *,
                    checkpoint: bool = True) -> list[str]:
    """What of `names` and `ids` is still in the database (empty when erasure was complete).

    SQLite: with `checkpoint=False` the main file and its WAL are read as the bot left them, so
    a missing checkpoint after an erasure (the WAL keeps the erased pages) is found too."""
    db = service.db
    if db.is_sqlite:
        if checkpoint:
            await db.checkpoint()
        path = Path(db.url.split(":///", 1)[1])
        blobs = {p.name: p.read_bytes() for p in (path, Path(f"{path}-wal"))
                 if p.exists()}
        found = []
        for name in names:
            for form in _text_forms(name):
                found += [f"{name!r} in {f}" for f, blob in blobs.items() if form in blob]
        for value in ids:
            for form in _int_forms(value):
                found += [f"{value} ({form!r}) in {f}" for f, blob in blobs.items()
                          if form in blob]
        return found
    found = []
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = (await conn.execute(text(f'SELECT t::text FROM "{table.name}" t'))).scalars()
            for row in rows:
                found += [f"{n!r} in {table.name}" for n in names if n in row
                          or html.escape(n) in row or json.dumps(n)[1:-1] in row]
                found += [f"{i} in {table.name}" for i in ids if str(i) in row]
    return found


async def exit_cleanup_done(service: Any) -> bool:
    """`/exit`'s Telegram work has run and its list of chats and messages is forgotten."""
    async with service.db.sessions() as session:
        rows = (await session.execute(select(ScheduledTask).where(
            ScheduledTask.kind == "safety.exit_cleanup"))).scalars().all()
    return bool(rows) and all(r.status == "done" and r.payload == {} for r in rows)

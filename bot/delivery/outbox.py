"""The outbox (rule D): what capabilities call to send one thing to many chats, and to follow it.

`enqueue` writes a fan-out and one row per recipient chat in the caller's transaction (the same
one that records what is announced), so either both exist or neither. The sender does the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.low_profile import protected_chats
from bot.db.models import Fanout, OutboxRow
from bot.db.states import OUTBOX_FINAL, OUTBOX_LIVE, OUTBOX_LOST, OutboxState
from bot.db.upsert import insert_ignore

FINAL = OUTBOX_FINAL
STATES = tuple(OutboxState)


@dataclass(frozen=True)
class Outgoing:
    """One chat's copy. `text` is HTML; `buttons` rows of Bot API InlineKeyboardButton dicts.

    Exactly one of text, poll, document or photo. A document or photo is bytes in base64
    (`content_b64`) with a filename, or a Telegram `file_id`; `caption` is HTML.
    """

    chat_id: int
    text: str | None = None
    buttons: list[list[dict[str, Any]]] | None = None
    protect_content: bool = False
    poll: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    photo: dict[str, Any] | None = None
    caption: str | None = None
    disable_preview: bool = True
    # A correction: {"message_ids": [the chat's earlier copy, one per part], "stale": "<html>"
    # for a part left over that can no longer be deleted}; `text` replaces that copy
    # (bot/delivery/edits.py).
    edit: dict[str, Any] | None = None

    def payload(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "chat_id" and v not in (None, [])}


@dataclass
class FanoutStatus:
    fanout_id: int
    purpose: str
    total: int
    counts: dict[str, int]
    possibly_duplicated: int
    orphans: int
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return sum(self.counts.get(s, 0) for s in FINAL) >= self.total

    @property
    def pending(self) -> int:
        return sum(self.counts.get(s, 0) for s in OUTBOX_LIVE)


async def enqueue(session: AsyncSession, key: str, purpose: str, messages: Iterable[Outgoing],
                  now: datetime, report_chat_id: int | None = None) -> int:
    """Create the fan-out `key` with a row per chat, once: a second call returns the first's id.

    A chat listed twice gets one row (the first). Copies to a low-profile organisation's chats
    are protected (no forwarding or saving) whatever the caller asked: the member-safety rule
    lives here so no capability can forget it.
    """
    existing = (await session.execute(select(Fanout.id).where(Fanout.key == key))).scalar()
    if existing is not None:
        return int(existing)
    rows: dict[int, dict[str, Any]] = {}
    for message in messages:
        rows.setdefault(message.chat_id, {
            "chat_id": message.chat_id, "payload": message.payload(), "state": OutboxState.QUEUED,
            "attempts": 0, "lost_answers": 0, "parts_sent": 0, "message_ids": [],
            "next_attempt_at": now, "updated_at": now,
        })
    for chat_id in (await protected_chats(session, rows)):
        rows[chat_id]["payload"]["protect_content"] = True
    await session.execute(insert_ignore(session, Fanout).values(
        key=key, purpose=purpose, total=len(rows), report_chat_id=report_chat_id,
        created_at=now, reported_final=False))
    found = await session.execute(select(Fanout.id).where(Fanout.key == key))
    fanout_id = int(found.scalar_one())
    if rows:
        values = [{**row, "fanout_id": fanout_id} for row in rows.values()]
        for start in range(0, len(values), 1000):
            await session.execute(insert_ignore(session, OutboxRow), values[start:start + 1000])
    return fanout_id


async def status(session: AsyncSession, fanout_id: int) -> FanoutStatus:
    fanout = await session.get(Fanout, fanout_id)
    if fanout is None:
        raise KeyError(fanout_id)
    by_state = dict((await session.execute(
        select(OutboxRow.state, func.count()).where(OutboxRow.fanout_id == fanout_id)
        .group_by(OutboxRow.state))).all())
    duplicated, orphans = (await session.execute(
        select(func.count(OutboxRow.id).filter(OutboxRow.lost_answers > 0),
               func.coalesce(func.sum(OutboxRow.lost_answers), 0))
        .where(OutboxRow.fanout_id == fanout_id))).one()
    reasons = dict((await session.execute(
        select(OutboxRow.reason, func.count())
        .where(OutboxRow.fanout_id == fanout_id, OutboxRow.state.in_(OUTBOX_LOST))
        .group_by(OutboxRow.reason))).all())
    return FanoutStatus(
        fanout_id=fanout_id, purpose=fanout.purpose, total=fanout.total,
        counts={s: int(by_state.get(s, 0)) for s in STATES},
        possibly_duplicated=int(duplicated or 0), orphans=int(orphans or 0),
        reasons={str(k): int(v) for k, v in reasons.items()},
    )


async def failures(session: AsyncSession, fanout_id: int) -> list[tuple[int, str, str | None]]:
    """(chat, state, Telegram's reason) of every row that failed or could not be reached."""
    rows = await session.execute(
        select(OutboxRow.chat_id, OutboxRow.state, OutboxRow.reason)
        .where(OutboxRow.fanout_id == fanout_id, OutboxRow.state.in_(OUTBOX_LOST))
        .order_by(OutboxRow.id))
    return [(int(c), s, r) for c, s, r in rows.all()]


async def message_ids(session: AsyncSession, fanout_id: int) -> dict[int, list[int]]:
    """Telegram's message ids of every part sent, per chat (for edits, corrections, deletions)."""
    rows = await session.execute(
        select(OutboxRow.chat_id, OutboxRow.message_ids)
        .where(OutboxRow.fanout_id == fanout_id, OutboxRow.state == OutboxState.SENT))
    return {int(c): list(ids or []) for c, ids in rows.all()}


def tally(states: Iterable[str]) -> Counter[str]:
    return Counter(states)

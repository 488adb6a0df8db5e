"""Correcting or withdrawing a sent alert (issue 8): every chat's copy is changed through the
outbox (rule D) with the message ids the sender kept, as one fan-out per copy line:

- the alert itself (`alert:<id>`, then its corrections `alert.fix:<id>:<n>`),
- the escalation's re-sends in contacts' private chats (`alert.escalate:<id>`, then
  `alert.fix.e:<id>:<n>`).

A chat's current copy is the message ids of the latest row of its line that was sent (a
correction's row keeps the ids that now carry the text, so corrections chain). A chat whose copy
is still on its way gets the corrected text as a new message; a chat that was never reached is
left alone; an orphan copy (its send's answer was lost, rule D) cannot be reached and is counted.
A migrated group's rows move with it (below); its old copy is not editable under the new id,
so it gets the correction as a new message (also when the sender learns the move from
Telegram's ChatMigrated answer to the edit itself).
No Telegram here: the caller renders each chat's text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Alert, AlertTarget, Fanout, OutboxRow
from bot.db.states import OUTBOX_LIVE, AlertStatus, OutboxState
from bot.delivery import outbox
from bot.services.shared import chats as chats_service

BASE = "a"
ESCALATED = "e"
PURPOSES = ("alert", "alert.escalate", "alert.fix")

# A group that migrates takes its alert copies along (sent rows too, not only the live ones the
# delivery engine moves): a correction then finds the chat under its new id, where the old copy
# cannot be edited, and sends the corrected text as a new message.
_SENT_ALERT_ROWS = OutboxRow.fanout_id.in_(select(Fanout.id).where(Fanout.purpose.in_(PURPOSES)))
if not any(entry[2] is not None and str(entry[2]) == str(_SENT_ALERT_ROWS)
           for entry in chats_service.CHAT_REFERENCES):
    chats_service.CHAT_REFERENCES.append((OutboxRow, "chat_id", _SENT_ALERT_ROWS))


@dataclass(frozen=True)
class Copy:
    """One chat's copy to change: its current message ids (empty: send the text anew)."""

    chat_id: int
    line: str  # BASE or ESCALATED
    message_ids: tuple[int, ...]
    language: str
    protect: bool


@dataclass(frozen=True)
class Plan:
    copies: list[Copy]
    orphans: int  # copies whose message id was lost: cannot be changed
    unreached: int  # chats the alert never reached (failed, unreachable)


def line_keys(alert: Alert, line: str) -> list[str]:
    first = f"alert:{alert.id}" if line == BASE else f"alert.escalate:{alert.id}"
    fix = "alert.fix" if line == BASE else "alert.fix.e"
    return [first, *(f"{fix}:{alert.id}:{n}" for n in range(1, (alert.corrections or 0) + 1))]


async def plan(session: AsyncSession, alert: Alert, default_language: str) -> Plan:
    """Which copies a correction (or withdrawal) changes now, and what it cannot reach."""
    copies: list[Copy] = []
    orphans = unreached = 0
    targets = {int(c): (str(lang), int(o)) for c, lang, o in (await session.execute(
        select(AlertTarget.chat_id, AlertTarget.language, AlertTarget.org_id)
        .where(AlertTarget.alert_id == alert.id))).all()}
    for line in (BASE, ESCALATED):
        keys = line_keys(alert, line)
        fanouts = {str(k): int(i) for k, i in (await session.execute(
            select(Fanout.key, Fanout.id).where(Fanout.key.in_(keys)))).all()}
        current: dict[int, tuple[int, ...]] = {}
        pending: set[int] = set()
        seen: set[int] = set()
        payloads: dict[int, dict] = {}
        for n, key in enumerate(keys):
            if key not in fanouts:
                continue
            rows = (await session.execute(
                select(OutboxRow.chat_id, OutboxRow.state, OutboxRow.message_ids,
                       OutboxRow.lost_answers, OutboxRow.payload)
                .where(OutboxRow.fanout_id == fanouts[key]))).all()
            for chat, state, ids, lost, payload in rows:
                chat = int(chat)
                seen.add(chat)
                payloads.setdefault(chat, payload or {})
                if n == 0:
                    orphans += int(lost or 0)
                if state == OutboxState.SENT and ids:
                    current[chat] = tuple(int(i) for i in ids)
                    pending.discard(chat)
                elif state in OUTBOX_LIVE and chat not in current:
                    pending.add(chat)
        languages, _ = await chats_service.languages_and_zones(session, list(seen))
        for chat in sorted(seen):
            if chat not in current and chat not in pending:
                unreached += 1 if line == BASE else 0
                continue
            lang = (targets[chat][0] if line == BASE and chat in targets
                    else languages.get(chat) or default_language)
            copies.append(Copy(chat, line, current.get(chat, ()), lang,
                               bool(payloads[chat].get("protect_content"))))
    return Plan(copies, orphans, unreached)


Render = Callable[[Alert, Copy], outbox.Outgoing]


@dataclass(frozen=True)
class Done:
    number: int
    fanout_id: int
    chats: int
    orphans: int
    unreached: int


async def apply(session: AsyncSession, alert_id: int, now: datetime, render: Render,
                default_language: str, *, body_es: str | None = None,
                body_en: str | None = None, withdraw_reason: str | None = None,
                report_chat_id: int | None = None) -> Done | None:
    """Correct the alert's texts (or withdraw it, with a reason) and enqueue the change of every
    copy, in one transaction. None when the alert is not sent or already withdrawn."""
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.status != AlertStatus.SENT or alert.withdrawn_at is not None:
        return None
    found = await plan(session, alert, default_language)
    number = (alert.corrections or 0) + 1
    values: dict[str, object] = {"corrections": number, "updated_at": now}
    if withdraw_reason is not None:
        values.update(withdrawn_at=now, withdraw_reason=withdraw_reason)
    else:
        values.update(corrected_at=now, body_es=body_es, body_en=body_en)
    won = await session.execute(update(Alert).where(
        Alert.id == alert_id, Alert.withdrawn_at.is_(None),
        func.coalesce(Alert.corrections, 0) == number - 1).values(**values))
    if not won.rowcount:
        return None
    await session.refresh(alert)
    base = [render(alert, c) for c in found.copies if c.line == BASE]
    escalated = [render(alert, c) for c in found.copies if c.line == ESCALATED]
    fanout_id = await outbox.enqueue(session, f"alert.fix:{alert_id}:{number}", "alert.fix",
                                     base, now, report_chat_id=report_chat_id)
    if escalated:
        await outbox.enqueue(session, f"alert.fix.e:{alert_id}:{number}", "alert.fix",
                             escalated, now)
    return Done(number, fanout_id, len(found.copies), found.orphans, found.unreached)

"""Live progress of a fan-out for whoever started it: one message, edited every 3 seconds when it
changed (Telegram answers 400 to an identical edit), then the totals and the reasons at the end."""

from __future__ import annotations

import hashlib
import logging
import time

from sqlalchemy import select, update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application

from bot.clock import Clock
from bot.db.engine import Database
from bot.db.models import Fanout
from bot.delivery import outbox
from bot.delivery.hooks import ChatHooks
from bot.i18n import Text, render

log = logging.getLogger(__name__)
EVERY_S = 3.0
MAX_REASONS = 5


def progress_text(status: outbox.FanoutStatus, rate: float, t: Text) -> str:
    c = status.counts
    lines = [
        t.tr("<b>Sending</b> ({purpose})", purpose=status.purpose) if not status.done
        else t.tr("<b>Finished</b> ({purpose})", purpose=status.purpose),
        t.tr("Sent: {sent} of {total}", sent=t.number(c["sent"]), total=t.number(status.total)),
        t.tr("Waiting: {queued} · failed: {failed} · unreachable: {unreachable}",
             queued=t.number(status.pending), failed=t.number(c["failed"]),
             unreachable=t.number(c["unreachable"])),
    ]
    if status.possibly_duplicated:
        lines.append(t.tr("Possibly duplicated (an answer was lost): {n}",
                          n=t.number(status.possibly_duplicated)))
    if not status.done and status.pending:
        lines.append(t.tr("About {time} left.", time=t.duration(max(1.0, status.pending / rate))))
    if status.done and status.reasons:
        lines.append(t.tr("Reasons:"))
        for reason, count in sorted(status.reasons.items(), key=lambda kv: -kv[1])[:MAX_REASONS]:
            lines.append(t.tr("• {reason}: {n}", reason=reason, n=t.number(count)))
    return "\n".join(lines)


class ProgressReporter:
    def __init__(self, application: Application, db: Database, clock: Clock,  # type: ignore[type-arg]
                 rate: float, default_language: str, default_timezone: str,
                 *, chats: ChatHooks) -> None:
        self.application = application
        self.chats = chats
        self.db = db
        self.clock = clock
        self.rate = rate
        self.default_language = default_language
        self.default_timezone = default_timezone
        self._last = 0.0

    async def tick(self, force: bool = False) -> None:
        """Called by the sender's loop; does its work at most every 3 seconds."""
        if not force and time.monotonic() - self._last < EVERY_S:
            return
        self._last = time.monotonic()
        async with self.db.reader() as session:
            fanouts = (await session.execute(
                select(Fanout.id).where(Fanout.report_chat_id.is_not(None),
                                        Fanout.reported_final.is_(False)))).scalars().all()
        for fanout_id in fanouts:
            try:
                await self._report(int(fanout_id))
            except Exception:
                log.exception("progress.report_failed fanout=%d", fanout_id)

    async def _report(self, fanout_id: int) -> None:
        async with self.db.reader() as session:
            fanout = await session.get(Fanout, fanout_id)
            if fanout is None or fanout.report_chat_id is None:
                return
            status = await outbox.status(session, fanout_id)
            settings = await self.chats.settings(session, fanout.report_chat_id)
        text = render(settings.language or self.default_language,
                      settings.timezone or self.default_timezone,
                      lambda t: progress_text(status, self.rate, t))
        digest = hashlib.sha256(text.encode()).hexdigest()
        message_id = fanout.report_message_id
        if digest != fanout.report_text_hash:
            message_id = await self._show(fanout.report_chat_id, message_id, text)
        values: dict[str, object] = {"report_text_hash": digest, "report_message_id": message_id}
        if status.done:
            values.update(reported_final=True, finished_at=self.clock.now())
        async with self.db.transaction() as session:
            await session.execute(update(Fanout).where(Fanout.id == fanout_id).values(**values))

    async def _show(self, chat_id: int, message_id: int | None, text: str) -> int | None:
        bot = self.application.bot
        try:
            if message_id is not None:
                await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                            parse_mode=ParseMode.HTML)
                return message_id
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return message_id
            log.info("progress.edit_failed sending anew")
        except TelegramError:
            log.warning("progress.edit_failed")
            return message_id
        try:
            sent = await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError:
            log.warning("progress.send_failed")
            return message_id
        return sent.message_id

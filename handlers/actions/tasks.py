"""Actions' reminders as scheduled rows (rule S): the kind the sweeper runs.

A reminder is worth sending late while its action has not started (`actions.still_useful`),
else it is marked missed. Its fan-out is keyed by (action, offset, version), so a row that runs
again after a crash creates its outbox rows once. Lives with the handlers because the copies
carry the RSVP buttons (handlers/actions/copies.py). Registered in bot/app.py.
"""

from __future__ import annotations

import logging

from bot.runtime import Runtime
from bot.scheduler import Due, TaskKind
from bot.services.actions import actions
from handlers.actions.copies import reminder_copy

log = logging.getLogger(__name__)


def task_kinds(rt: Runtime) -> list[TaskKind]:
    render = reminder_copy(rt.settings.timezone)

    async def run(due: Due) -> None:
        async with rt.db.transaction() as session:
            done = await actions.remind(session, due.payload, due.now, render)
        if done.fanout_id is not None:
            rt.wake_sender()
        log.info("actions.reminded task=%d fanout=%s chats=%d", due.id, done.fanout_id,
                 done.chats)

    return [TaskKind(actions.REMIND_KIND, run, still_useful=actions.still_useful)]

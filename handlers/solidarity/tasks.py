"""The escalation of an urgent request for help that got no offer in time: a scheduled row
(rule S) written when the request is made; it tells the coordinators (the coordination group,
or each reachable coordinator) once, through the outbox, if the request is still open with no
offer. Registered in bot/app.py beside the other capabilities' kinds."""

from __future__ import annotations

import logging

from bot.runtime import Runtime
from bot.scheduler import Due, TaskKind
from bot.services.membership import members_view
from bot.services.solidarity import solidarity
from handlers.solidarity import render as sr

log = logging.getLogger(__name__)


def task_kinds(rt: Runtime) -> list[TaskKind]:
    db, settings = rt.db, rt.settings

    async def escalate(due: Due) -> None:
        request_id = int(due.payload.get("request") or 0)
        async with db.transaction() as session:
            recipients = await members_view.coordination_recipients(
                session, settings.coordinator_ids, settings.coordination_chat_id)
            done = await solidarity.escalate(
                session, request_id, due.now,
                sr.coordinator_copies(recipients, settings.default_language, settings.timezone,
                                      escalated=True))
        if done:
            rt.wake_sender()
        log.info("solidarity.escalation request=%d sent=%s", request_id, done)

    # A flag to coordinators always runs, however late (rule S): the request still waits.
    return [TaskKind(solidarity.ESCALATE_KIND, escalate)]

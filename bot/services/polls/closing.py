"""Closing a poll, the domain half: the ballots that came late are attributed, every ballot is
counted once, and the poll is closed with its result, in the caller's transaction. The scheduled
close (handlers/polls/tasks.py) then only renders and enqueues what it returns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Poll
from bot.db.states import PollStatus
from bot.services.polls import polls, results


async def close_and_count(session: AsyncSession, poll_id: int,
                          now: datetime) -> tuple[Poll, results.Result] | None:
    """The closed poll and its result; None if it is unknown or was closed already (a re-run
    of the close finds it so and sends nothing twice)."""
    poll = await polls.get(session, poll_id)
    if poll is None or poll.status != PollStatus.OPEN:
        return None
    await polls.attribute_late(session, poll_id)
    await session.flush()
    result = await results.tally(session, poll)
    if not await polls.close(session, poll_id, now, result.to_json()):
        return None
    await session.refresh(poll)
    return poll, result

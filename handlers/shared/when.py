"""A step that asks "when": the one parser (bot/dates.py), the same refusals everywhere, and the
date echoed back in full, with its zone, before it is used (issue 24).

`reader(...)` makes a guided-flow step's `parse=`, `understood(...)` its `said=`; a one-question
step outside the kit (moving an action) calls `read` and `problem` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from bot import dates
from bot.dates import Problem
from bot.i18n import Text
from handlers.shared.common import Here
from handlers.shared.guided import Refuse

END_OF_DAY = time(23, 59)


def problem(t: Text, found: Problem, zone: str) -> str:
    """Why a typed date cannot be used, with the forms that can."""
    if found is Problem.GAP:
        return t.tr("That time does not exist in {zone}: the clocks skip it that day (a "
                    "daylight-saving change). Please choose another time.",
                    zone=dates.zone_name(zone, t.lang))
    if found is Problem.PAST:
        return t.tr("That moment has already passed. Please give a date and time in the future.")
    if found is Problem.NO_SUCH_DAY:
        return t.tr("I could not read a date there: that day does not exist.")
    if found is Problem.NEEDS_TIME:
        return t.tr("Please give the time as well, as in “Friday 6pm” or “5/12 18:00”.")
    return t.tr("I could not read a date and time there. Write it as 2026-12-31 18:00, 31/12 "
                "18:00, “Friday 6pm”, “tomorrow 10am” or “3d”.")


def understood(t: Text, moment: datetime, now: datetime) -> str:
    """The date as it will be used, in full, with its zone and how far it is."""
    return t.tr("Understood: {when}, {relative}.", when=t.moment(moment, with_zone=True),
                relative=t.relative(moment, now))


def read(where: Here, text: str, *, default_time: time | None = None,
         needs_time: bool = False) -> dates.Reading:
    return dates.parse(text, where.timezone, where.rt.clock.now(), default_time=default_time,
                       needs_time=needs_time)


def reader(field: str, *, default_time: time | None = None, needs_time: bool = False,
           check: Callable[[Here, datetime], Callable[[Text], str] | None] | None = None,
           also: Callable[[Here], dict[str, object]] | None = None,
           keep: Callable[[datetime], object] | None = None
           ) -> Callable[[Here, str, Any], dict[str, object] | Refuse]:
    """A `parse=` for a step whose answer is a moment, kept in `field` (as `keep` makes it):
    refused with the parser's reason or `check`'s, with `also`'s values beside it."""

    def parse(where: Here, text: str, draft: Any) -> dict[str, object] | Refuse:
        reading = read(where, text, default_time=default_time, needs_time=needs_time)
        if reading.when is None:
            found = reading.problem or Problem.UNREADABLE
            return Refuse(lambda t: problem(t, found, where.timezone))
        moment = reading.when
        why = check(where, moment) if check is not None else None
        if why is not None:
            return Refuse(why)
        values: dict[str, object] = {field: keep(moment) if keep is not None else moment}
        if also is not None:
            values.update(also(where))
        return values

    return parse


def echo(moment_of: Callable[[Any], datetime | None]
         ) -> Callable[[Text, Any, datetime], str]:
    """A `said=` that repeats the moment the draft now holds (`now`: the bot's clock)."""

    def said(t: Text, draft: Any, now: datetime) -> str:
        moment = moment_of(draft)
        return understood(t, moment, now) if moment is not None else ""

    return said

"""A poll's result: one fair ballot per organisation (or per person), then the counts.

Why here and not in SQL: the votes of a poll are a few thousand rows at most; loading them once
and combining in Python is the same on SQLite and PostgreSQL and well under a second (see
bench/polls.py). An organisation's ballot is the latest current answer of anyone who answers for
it (rule A): a retraction withdraws only that person's answer, so an earlier answer by another
contact stands again. Results shown outside coordinators' views fold groups (a state, a tier, a
kind) of fewer than 3 organisations (rule Q, bot/services/shared/visibility.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Organisation, Poll, PollVote
from bot.services.polls import count as poll_count
from bot.services.shared import vocabulary as v
from bot.services.shared.visibility import MIN_GROUP, OTHER


@dataclass
class Unit:
    """One counted voice: an organisation's (or a person's) latest ballot."""

    org_id: int
    tier: str
    kind: str
    states: list[str]
    choices: list[int]


@dataclass
class Result:
    options: list[str]
    kind: str
    headline: list[int]
    members: list[int]
    allies: list[int]
    borda: list[int] | None = None
    rounds: list[dict[str, Any]] = field(default_factory=list)
    winner: int | None = None
    voted_orgs: int = 0
    reached_orgs: int = 0
    ballots: int = 0
    strangers: int = 0
    unattributed: int = 0
    # group -> (organisations voting in it, headline measure per option)
    by_state: dict[str, tuple[int, list[int]]] = field(default_factory=dict)
    by_tier: dict[str, tuple[int, list[int]]] = field(default_factory=dict)
    by_kind: dict[str, tuple[int, list[int]]] = field(default_factory=dict)

    @property
    def ranked(self) -> bool:
        return self.kind == "ranked"

    @property
    def measure(self) -> list[int]:
        """What orders the options: votes, or the Borda score for a ranked poll."""
        return self.borda if self.ranked and self.borda is not None else self.headline

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("by_state", "by_tier", "by_kind"):
            data[name] = {k: [n, list(m)] for k, (n, m) in getattr(self, name).items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        values = dict(data)
        for name in ("by_state", "by_tier", "by_kind"):
            values[name] = {k: (int(n), list(m)) for k, (n, m) in (data.get(name) or {}).items()}
        return cls(**{k: values[k] for k in cls.__dataclass_fields__ if k in values})


def shown_groups(groups: dict[str, tuple[int, list[int]]], n: int,
                 coordinator_view: bool) -> dict[str, tuple[int, list[int]]]:
    """Groups as they may be shown: all to coordinators; to others, groups of fewer than 3
    organisations folded into `other` (dropped if that is still fewer than 3)."""
    if coordinator_view:
        return dict(groups)
    shown: dict[str, tuple[int, list[int]]] = {}
    folded, folded_measure = 0, [0] * n
    for name, (count, measure) in groups.items():
        if count >= MIN_GROUP:
            shown[name] = (count, measure)
        else:
            folded += count
            folded_measure = [a + b for a, b in zip(folded_measure, measure, strict=True)]
    if folded >= MIN_GROUP:
        shown[OTHER] = (folded, folded_measure)
    return shown


def count(units: list[Unit], options: list[str], kind: str, allies_count: bool,
          reached: int, strangers: int = 0, unattributed: int = 0,
          voted_orgs: int | None = None) -> Result:
    """The result of these ballots (pure: the benchmark and the hand-worked tests call it)."""
    n = len(options)
    ranked = kind == "ranked"

    def measure_of(group: list[Unit]) -> list[int]:
        ballots = [u.choices for u in group]
        return poll_count.borda(ballots, n) if ranked else poll_count.totals(ballots, n)

    counted = [u for u in units if allies_count or u.tier != "ally"]
    ballots = [u.choices for u in counted]
    result = Result(
        options=list(options), kind=kind,
        headline=poll_count.totals(ballots, n, ranked),
        members=poll_count.totals([u.choices for u in units if u.tier != "ally"], n, ranked),
        allies=poll_count.totals([u.choices for u in units if u.tier == "ally"], n, ranked),
        voted_orgs=len({u.org_id for u in units}) if voted_orgs is None else voted_orgs,
        reached_orgs=reached, ballots=len(counted), strangers=strangers,
        unattributed=unattributed)
    if ranked:
        result.borda = poll_count.borda(ballots, n)
        runoff = poll_count.instant_runoff(ballots, n)
        result.rounds = [{"counts": {str(k): c for k, c in r.counts.items()},
                          "eliminated": r.eliminated} for r in runoff.rounds]
        result.winner = runoff.winner
    for attr, keys in (("by_state", lambda u: u.states), ("by_tier", lambda u: [u.tier]),
                       ("by_kind", lambda u: [u.kind])):
        members: dict[str, list[Unit]] = {}
        for unit in units:
            for key in keys(unit):
                members.setdefault(key, []).append(unit)
        setattr(result, attr, {
            key: (len({u.org_id for u in group}), measure_of(group))
            for key, group in sorted(members.items())})
    return result


async def tally(session: AsyncSession, poll: Poll) -> Result:
    """Count the poll's current votes."""
    votes = (await session.execute(
        select(PollVote.user_id, PollVote.org_id, PollVote.standing, PollVote.choices,
               PollVote.seq, PollVote.id)
        .where(PollVote.poll_id == poll.id))).all()
    strangers = {(u if u is not None else -i) for u, _o, s, c, _q, i in votes
                 if s == "stranger" and c}
    latest: dict[Any, tuple[int, int, list[int]]] = {}
    for user, org, standing, choices, seq, vid in votes:
        if standing != "org" or not choices or org is None:
            continue
        key = org if poll.counting == "org" else (user if user is not None else -vid)
        if key not in latest or latest[key][0] < seq:
            latest[key] = (seq, int(org), list(choices))
    org_ids = {org for _s, org, _c in latest.values()}
    orgs: dict[int, Organisation] = {}
    if org_ids:
        orgs = {o.id: o for o in (await session.execute(
            select(Organisation).where(Organisation.id.in_(org_ids)))).scalars()}
    units = []
    for _seq, org_id, choices in latest.values():
        org = orgs.get(org_id)
        if org is None:
            continue
        states = [a for a in (org.areas or []) if v.is_state(a)]
        units.append(Unit(org_id, org.tier, org.kind, states, choices))
    unattributed = (await session.execute(
        select(func.count()).select_from(PollVote).where(
            PollVote.poll_id.is_(None), PollVote.standing == "unknown",
            PollVote.at >= poll.created_at, PollVote.at <= poll.closes_at))).scalar_one()
    return count(units, list(poll.options), poll.kind, poll.allies_count, poll.reached_orgs,
                 strangers=len(strangers), unattributed=int(unattributed),
                 voted_orgs=len({u.org_id for u in units}))


def state_line_data(result: Result, areas: list[str], scope: str,
                    coordinator_view: bool = False) -> list[tuple[str, int, int]]:
    """For a chat's organisation: (state, the option first there, its place across the
    coalition), for at most three of its states; none for national and regional organisations,
    nor for a state where fewer than 3 organisations voted (rule Q)."""
    if scope in ("national", "regional"):
        return []
    places = poll_count.positions(result.measure)
    lines = []
    for state in [a for a in areas if v.is_state(a)][:3]:
        group = result.by_state.get(state)
        if group is None or (group[0] < MIN_GROUP and not coordinator_view) or not any(group[1]):
            continue
        measure = group[1]
        first = max(range(len(measure)), key=lambda i: (measure[i], -i))
        lines.append((state, first, places[first]))
    return lines

"""Counting a poll's ballots: totals, the Borda count and the instant runoff (issue 9).

Pure functions of ballots (lists of option indexes), so hand-worked examples test them directly.
A ballot is one counted voice: an organisation's latest vote, or a person's when the poll counts
people. For single and multiple choice a ballot lists the options chosen; for a ranked poll it
lists options in order of preference, and may be partial.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

Ballot = Sequence[int]


def totals(ballots: Sequence[Ballot], n: int, ranked: bool = False) -> list[int]:
    """Votes per option; for a ranked poll, first preferences."""
    counts = [0] * n
    for ballot in ballots:
        chosen = ballot[:1] if ranked else sorted(set(ballot))
        for option in chosen:
            if 0 <= option < n:
                counts[option] += 1
    return counts


def borda(ballots: Sequence[Ballot], n: int) -> list[int]:
    """An option ranked r-th (from 1) of n options scores n - r; unranked options score 0."""
    scores = [0] * n
    for ballot in ballots:
        for rank, option in enumerate(ballot, 1):
            if 0 <= option < n:
                scores[option] += n - rank
    return scores


@dataclass
class Round:
    """One round of the runoff: first preferences among the options still in, and who went."""

    counts: dict[int, int]
    eliminated: int | None = None


@dataclass
class Runoff:
    rounds: list[Round] = field(default_factory=list)
    winner: int | None = None


def instant_runoff(ballots: Sequence[Ballot], n: int) -> Runoff:
    """The instant-runoff winner, round by round.

    Each round counts every ballot for its first option still in (a ballot with none left is
    exhausted). An option with more than half of the ballots still counting wins; otherwise the
    option with the fewest first preferences is eliminated, a tie for fewest broken by the lower
    Borda score, then by the later position in the option list. The last option left wins.
    """
    scores = borda(ballots, n)
    remaining = list(range(n))
    result = Runoff()
    if not any(ballots):
        return result
    while remaining:
        counts = {option: 0 for option in remaining}
        for ballot in ballots:
            first = next((o for o in ballot if o in counts), None)
            if first is not None:
                counts[first] += 1
        active = sum(counts.values())
        round_ = Round(counts)
        result.rounds.append(round_)
        leader = max(remaining, key=lambda o: (counts[o], scores[o], -o))
        if len(remaining) == 1 or counts[leader] * 2 > active:
            result.winner = leader
            return result
        loser = min(remaining, key=lambda o: (counts[o], scores[o], -o))
        round_.eliminated = loser
        remaining.remove(loser)
    return result


def positions(values: Sequence[int]) -> list[int]:
    """Each option's place (1 = first) by value, ties sharing the better place."""
    return [1 + sum(1 for other in values if other > value) for value in values]

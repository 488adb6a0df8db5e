"""Counting polls against hand-worked examples (issue 9): totals, Borda, instant runoff with
ties, one ballot per organisation, allies apart, small groups folded (rule Q), state lines."""

from __future__ import annotations

from bot.services.polls import count as poll_count
from bot.services.polls import results
from bot.services.polls.results import Unit, shown_groups

A, B, C, D = 0, 1, 2, 3


def rounds(runoff: poll_count.Runoff) -> list[tuple[dict[int, int], int | None]]:
    return [(r.counts, r.eliminated) for r in runoff.rounds]


def test_borda_and_runoff_worked_example() -> None:
    ballots = [[A, B, C], [A, C, B], [B, C, A], [C, B], [B]]
    # n = 3: first place scores 2, second 1, third and unranked 0.
    assert poll_count.borda(ballots, 3) == [4, 6, 4]
    assert poll_count.totals(ballots, 3, ranked=True) == [2, 2, 1]
    runoff = poll_count.instant_runoff(ballots, 3)
    # Round 1: A 2, B 2, C 1, no majority of 5: C goes. Round 2: C's ballot moves to B: 3 of 5.
    assert rounds(runoff) == [({A: 2, B: 2, C: 1}, C), ({A: 2, B: 3}, None)]
    assert runoff.winner == B


def test_runoff_ties_broken_by_borda_then_by_later_position() -> None:
    ballots = [[A, B], [A, C], [B, A], [B, D], [C, B], [D, A]]
    # n = 4: scores 3, 2 for first and second places. A 10, B 10, C 5, D 5.
    assert poll_count.borda(ballots, 4) == [10, 10, 5, 5]
    runoff = poll_count.instant_runoff(ballots, 4)
    assert rounds(runoff) == [
        ({A: 2, B: 2, C: 1, D: 1}, D),  # C and D tie on votes and Borda: the later (D) goes
        ({A: 3, B: 2, C: 1}, C),         # D's ballot moves to A
        ({A: 3, B: 3}, B),               # 3 of 6 is no majority; tie again: the later (B) goes
        ({A: 4}, None),                  # B's ballot [B, D] is exhausted, [B, A] moves to A
    ]
    assert runoff.winner == A


def test_runoff_tie_for_fewest_broken_by_lower_borda() -> None:
    ballots = [[A, B], [B, C], [C, B]]
    assert poll_count.borda(ballots, 3) == [2, 4, 3]
    runoff = poll_count.instant_runoff(ballots, 3)
    assert rounds(runoff) == [({A: 1, B: 1, C: 1}, A), ({B: 2, C: 1}, None)]
    assert runoff.winner == B


def test_totals_for_multiple_choice_and_empty_runoff() -> None:
    assert poll_count.totals([[A, C], [C], [A, B, C], [C, C]], 3) == [2, 1, 4]
    assert poll_count.instant_runoff([], 3).winner is None
    assert poll_count.positions([5, 9, 5, 1]) == [2, 1, 2, 4]


def unit(org: int, choices: list[int], tier: str = "member", kind: str = "cso",
         states: tuple[str, ...] = ("MX-JAL",)) -> Unit:
    return Unit(org, tier, kind, list(states), choices)


def test_allies_apart_and_in_the_headline_only_when_asked() -> None:
    units = [unit(1, [A]), unit(2, [B]), unit(3, [B]), unit(4, [A], tier="ally"),
             unit(5, [A], tier="ally")]
    without = results.count(units, ["a", "b"], "single", False, reached=8)
    assert without.headline == [1, 2] and without.members == [1, 2] and without.allies == [2, 0]
    assert (without.voted_orgs, without.reached_orgs, without.ballots) == (5, 8, 3)
    with_allies = results.count(units, ["a", "b"], "single", True, reached=8)
    assert with_allies.headline == [3, 2]


def test_small_groups_folded_outside_coordinators_view() -> None:
    units = [unit(1, [A], states=("MX-JAL",)), unit(2, [A], states=("MX-JAL",)),
             unit(3, [B], states=("MX-JAL", "MX-OAX")), unit(4, [B], states=("MX-OAX",)),
             unit(5, [B], states=("MX-CHP",), kind="foundation")]
    result = results.count(units, ["a", "b"], "single", False, reached=5)
    assert result.by_state == {"MX-CHP": (1, [0, 1]), "MX-JAL": (3, [2, 1]),
                               "MX-OAX": (2, [0, 2])}
    assert shown_groups(result.by_state, 2, coordinator_view=True) == result.by_state
    # Chiapas (1) and Oaxaca (2) fold into "other" (3 organisations' ballots, counted per group).
    assert shown_groups(result.by_state, 2, coordinator_view=False) == {
        "MX-JAL": (3, [2, 1]), "other": (3, [0, 3])}
    # The kind split: one foundation alone is not shown, and "other" of 1 is dropped.
    assert shown_groups(result.by_kind, 2, coordinator_view=False) == {"cso": (4, [2, 2])}


def test_state_line_first_in_the_state_and_place_across_the_coalition() -> None:
    units = [unit(1, [B]), unit(2, [B]), unit(3, [A]), unit(4, [A], states=("MX-OAX",)),
             unit(5, [A], states=("MX-OAX",))]
    result = results.count(units, ["a", "b"], "single", False, reached=5)
    assert result.headline == [3, 2]
    # In Jalisco b came first (2 of 3); across the coalition it is second.
    assert results.state_line_data(result, ["MX-JAL"], "state") == [("MX-JAL", B, 2)]
    # Oaxaca has only 2 voting organisations: no line (rule Q); national orgs get none.
    assert results.state_line_data(result, ["MX-OAX"], "state") == []
    assert results.state_line_data(result, ["MX-JAL"], "national") == []


def test_result_round_trips_through_json() -> None:
    units = [unit(1, [A, B]), unit(2, [B, A]), unit(3, [B])]
    result = results.count(units, ["a", "b"], "ranked", False, reached=3)
    again = results.Result.from_json(result.to_json())
    assert again == result
    assert result.borda == [1, 2] and result.winner == B


def test_audience_filters() -> None:
    from bot.services.polls.polls import parse_filters

    assert parse_filters("all") == ([], [], [])
    assert parse_filters("state=MX-JAL,mx-oax topic=tax kind=cso") == (
        ["MX-JAL", "MX-OAX"], ["tax"], ["cso"])
    assert parse_filters("country=GT kind=foundation,academic") == (
        ["GT"], [], ["foundation", "academic"])
    for bad in ("", "state=XX-YYY", "colour=red", "topic=", "kind=cso junk"):
        assert parse_filters(bad) is None, bad


def test_nudge_time() -> None:
    from datetime import UTC, datetime, timedelta

    from bot.services.polls.polls import nudge_time

    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    day = timedelta(days=1)
    assert nudge_time(now, now + 3 * day) == now + 2 * day       # a day before the close
    assert nudge_time(now, now + timedelta(hours=10)) == now + timedelta(hours=5)  # halfway
    assert nudge_time(now, now + timedelta(minutes=30)) is None

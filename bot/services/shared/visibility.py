"""Rule Q for what other members read: a low-profile organisation's name, and small groups.

Why one module: every capability that shows organisations or results to members (alerts'
answers, polls' results, digests, directories) must hide the same things the same way, and the
transcript tests of the member-safety issue read every message for a low-profile org's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

MIN_GROUP = 3  # no result outside coordinators' views shows a group of fewer organisations
OTHER = "other"


class Named(Protocol):
    name: str
    low_profile: bool
    alias: str | None


def shown_name(org: Named, *, coordinator_view: bool) -> str | None:
    """The name to show: the real one to coordinators and for ordinary organisations; a
    low-profile organisation's alias to others, or None when it chose not to be shown at all."""
    if coordinator_view or not org.low_profile:
        return org.name
    return org.alias or None


def hide_small_groups(counts: Mapping[str, int], minimum: int = MIN_GROUP) -> dict[str, int]:
    """Fold every group of fewer than `minimum` organisations (a state, a tier, a kind) into
    `OTHER`, so a member cannot single one out; `OTHER` itself is dropped if still too small."""
    shown: dict[str, int] = {}
    folded = 0
    for group, count in counts.items():
        if count >= minimum:
            shown[group] = count
        elif count > 0:
            folded += count
    if folded >= minimum:
        shown[OTHER] = shown.get(OTHER, 0) + folded
    return shown

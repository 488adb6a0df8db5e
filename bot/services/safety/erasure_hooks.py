"""Where each capability says how its own rows forget a person, erase an organisation, and age out.

Why a registry: `/forget`, `/exit` and the retention purge (member-safety issue, rule Q) must
reach every table that holds personal data, including tables added by later capabilities. Each
service that keeps such rows registers its three functions here at import time; the erasure
service (bot/services/safety/erasure.py) calls them all in the one transaction that erases,
and the privacy catalogue (bot/services/safety/privacy.py) says, per table, what is kept. A
test searches the database file's bytes after erasure, so a capability that forgets to
register is caught.

- person hooks: `(session, user_id, now)`: delete the person's rows, or make their attributions
  the organisation's or anonymous (set the user id to NULL).
- org hooks: `(session, org_id, now)`: delete the organisation's rows, keeping only anonymous
  counts; run before the organisation row itself is deleted.
- retention hooks: `(session, cutoff)` -> rows purged: delete or anonymise what is older.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

PersonHook = Callable[[AsyncSession, int, datetime], Awaitable[None]]
OrgHook = Callable[[AsyncSession, int, datetime], Awaitable[None]]
RetentionHook = Callable[[AsyncSession, datetime], Awaitable[int]]

PERSON_HOOKS: list[PersonHook] = []
ORG_HOOKS: list[OrgHook] = []
RETENTION_HOOKS: list[RetentionHook] = []


def on_forget_person(hook: PersonHook) -> PersonHook:
    if hook not in PERSON_HOOKS:
        PERSON_HOOKS.append(hook)
    return hook


def on_erase_org(hook: OrgHook) -> OrgHook:
    if hook not in ORG_HOOKS:
        ORG_HOOKS.append(hook)
    return hook


def on_retention(hook: RetentionHook) -> RetentionHook:
    if hook not in RETENTION_HOOKS:
        RETENTION_HOOKS.append(hook)
    return hook

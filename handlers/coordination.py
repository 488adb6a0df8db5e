"""Coordinators' views and team: /members, /export, /coordinators, /pending (issue 5)."""

from __future__ import annotations

from telegram.ext import Application


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add this module's commands."""

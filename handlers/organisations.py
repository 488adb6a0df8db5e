"""An organisation's own business: /link, /profile, /contacts, /leave (issue 5)."""

from __future__ import annotations

from telegram.ext import Application


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add this module's commands."""

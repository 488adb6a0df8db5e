"""Advocacy actions: dated things the coalition does, whom they reach, reminders, who goes.

Domain services only: no Telegram, no display (that is `handlers/actions/`).
"""

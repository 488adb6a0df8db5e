"""Member safety: low-profile organisations, what the bot keeps (/privacy), /forget and /exit,
and the erasure hooks through which each capability forgets its own rows.

Domain services only: no Telegram, no display (that is `handlers/safety/`).
"""

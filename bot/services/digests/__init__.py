"""Digests: what each member chat and the coordinators get on their schedule, and when.

Domain services only: no Telegram, no display (that is `handlers/digests/`).
"""

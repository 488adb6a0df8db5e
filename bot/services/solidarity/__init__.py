"""Solidarity: requests for help, the organisations that can give it, offers and relays.

Domain services only: no Telegram, no display (that is `handlers/solidarity/`).
"""

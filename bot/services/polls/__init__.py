"""Polls on priorities: drafts, reach, ballots (one per organisation, rule A), and the counts.

Domain services only: no Telegram, no display (that is `handlers/polls/`).
"""

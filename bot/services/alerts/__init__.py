"""Alerts: drafts, whom an alert reaches (rule T), the Send sequence, answers (rule A), the
two-person review, sign-on statements, corrections, escalation and members' reports.

Domain services only: no Telegram, no display (that is `handlers/alerts/`).
"""

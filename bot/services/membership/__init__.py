"""Membership: organisations, their contacts and chats, registration, invitations, approvals,
and what contacts and coordinators change about an organisation.

Domain services only: no Telegram, no display (that is `handlers/membership/`).
"""

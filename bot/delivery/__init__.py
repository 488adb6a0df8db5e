"""Delivery (rule D): the outbox capabilities write to, the sender that alone paces fan-out, the
pacer that keeps every send within Telegram's limits, and live progress for coordinators."""

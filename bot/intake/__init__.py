"""Intake: updates in from Telegram, saved before confirmed (rule U), then dispatched."""

"""What every capability leans on: chats and their settings, people, roles (rule R), guided
flows' state (rule C), the closed vocabularies, rule Q's visibility, the CSV writer, health and
the hourly housekeeping.

Domain services only: no Telegram and no display.
"""

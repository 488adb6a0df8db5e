"""Domain services: async functions that take a session and return data.

They know nothing of Telegram updates; what they send to many chats goes through the outbox.
"""

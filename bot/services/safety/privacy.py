"""What the bot keeps, table by table: the source of `/privacy`, held against the schema by a test.

Why a catalogue: a privacy notice that drifts from the schema is a lie to people under threat.
Every table is either listed here with its columns that hold personal data (Telegram ids of people
and chats, names, texts, attributions), or in NOTHING_PERSONAL with the reason; the test fails on a
table or personal-looking column that is neither. Texts are `N_` marked and translated at render.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_


@dataclass(frozen=True)
class Kept:
    """One table that holds personal data: which columns, what for, who sees it, how long."""

    table: str
    columns: tuple[str, ...]
    what: str
    who: str
    how_long: str


COORDINATORS = N_("coordinators")
COORDS_AND_CONTACTS = N_("coordinators and your organisation's contacts")
UNTIL_ERASED = N_("until you use /forget or your organisation uses /exit")
RETENTION = N_("{days} days, then purged")

KEPT: list[Kept] = [
    Kept("people", ("id", "language_code", "reachable", "started_at"),
         N_("You: your Telegram id, the language your Telegram app reports, and whether you "
            "opened a private chat with the bot (so it knows it may write to you)."),
         N_("the bot only; coordinators see whether you can be reached"), UNTIL_ERASED),
    Kept("chats", ("id", "language", "timezone"),
         N_("Chats the bot is in: the chat's Telegram id, its language and time zone."),
         N_("the bot only"), UNTIL_ERASED),
    Kept("contacts", ("user_id", "org_id", "added_by", "added_at"),
         N_("That you speak for an organisation: your Telegram id, the organisation, who added "
            "you and when."), COORDS_AND_CONTACTS, UNTIL_ERASED),
    Kept("organisations",
         ("name", "alias", "areas", "topics", "capacities", "requested_by", "decided_by",
          "decision_reason"),
         N_("Your organisation: its name (and alias if it is low-profile), kind, tier, where it "
            "works, what it follows and offers, who asked to register it and which coordinator "
            "decided, with the reason."),
         N_("coordinators; other members see the name only if it is not low-profile"),
         UNTIL_ERASED),
    Kept("member_chats", ("chat_id", "org_id", "member_count", "linked_by"),
         N_("Groups that speak for an organisation: the group's Telegram id, its member count and "
            "who linked it."), COORDS_AND_CONTACTS, UNTIL_ERASED),
    Kept("coordinators", ("user_id", "added_by"),
         N_("Coordinators added in the bot: their Telegram id and who added them."),
         COORDINATORS, N_("until removed")),
    Kept("invitations", ("org_name", "created_by", "used_by"),
         N_("Invitations: the organisation's name written by a coordinator, who created the "
            "link and who used it."), COORDINATORS, N_("until the organisation is erased")),
    Kept("conversations", ("chat_id", "user_id", "data"),
         N_("A guided step you are in the middle of (for example registering): what you typed "
            "so far."), N_("the bot only"), N_("a day at most")),
    Kept("saved_updates", ("payload", "lane"),
         N_("Every message and button press sent to the bot, as Telegram delivers it (with your "
            "name and username), kept so that nothing is lost if the bot restarts."),
         N_("the bot only"), N_("a day after it is handled")),
    Kept("fanouts", ("report_chat_id", "report_message_id"),
         N_("Messages sent to many chats: which chat shows the progress."),
         COORDINATORS, RETENTION),
    Kept("outbox", ("chat_id", "payload", "message_ids", "reason"),
         N_("Each copy of a message sent to many chats: the recipient chat, the text, Telegram's "
            "message ids and, if it failed, Telegram's reason."), COORDINATORS, RETENTION),
    Kept("sent_messages", ("chat_id", "message_id"),
         N_("The bot's own recent messages (chat and message id only), so it can delete them "
            "when asked."), N_("the bot only"), N_("48 hours")),
    Kept("audit_log", ("actor_id", "target_id"),
         N_("Who changed what (ids and action names only)."), COORDINATORS, RETENTION),
    Kept("scheduled_tasks", ("payload",),
         N_("Scheduled work (reminders, closings, digests): internal ids, sometimes a chat id."),
         N_("the bot only"), N_("until done, then purged with the delivery rows")),
    Kept("alerts", ("title", "body_es", "body_en", "link", "composed_by", "approved_by",
                    "withdraw_reason", "statement_es", "statement_en"),
         N_("Alerts coordinators send: their title, texts and link, and which coordinator wrote "
            "them."), N_("coordinators; the organisations it was sent to read it"), RETENTION),
    Kept("alert_signatures", ("org_id", "name", "signer_id"),
         N_("Your organisation's signature under an alert's statement: the name it signs "
            "under and who signed."), N_("coordinators; a published statement names the "
                                         "signatories, never a low-profile organisation"),
         N_("the signature until your organisation uses /exit; who signed until /forget or "
            "{days} days")),
    Kept("alert_targets", ("chat_id", "org_id"),
         N_("Which chats of which organisations each alert was sent to."), COORDINATORS,
         RETENTION),
    Kept("alert_answers", ("org_id", "answered_by"),
         N_("Your organisation's answer to an alert (received, signs on, affected, can help "
            "with what) and who pressed the button."), COORDINATORS,
         N_("the answer until your organisation uses /exit; who pressed it until /forget or "
            "{days} days")),
    Kept("alert_strangers", ("user_id",),
         N_("Presses under an alert by people who do not answer for an organisation it was "
            "sent to: their Telegram id, counted apart."), COORDINATORS, RETENTION),
    Kept("reports", ("org_id", "reporter_id", "text", "link", "file_id", "file_name",
                     "decided_by", "reason"),
         N_("Threats you report with /report: your text, link or document, the state, who "
            "reported it and the coordinators' decision."), COORDINATORS, RETENTION),
    Kept("actions", ("title", "description", "place", "created_by"),
         N_("Actions: title, text, place, who wrote them."),
         N_("coordinators; the organisations it was sent to read it"), RETENTION),
    Kept("action_targets", ("chat_id", "org_id"),
         N_("Chats each action was sent to."), COORDINATORS, RETENTION),
    Kept("action_rsvps", ("org_id", "answered_by"),
         N_("Your organisation's answer to an action, and who pressed."), COORDINATORS,
         N_("the answer until your organisation uses /exit; who pressed it until /forget or "
            "{days} days")),
    Kept("action_strangers", ("user_id",),
         N_("Answers to actions by people outside the invited organisations: their Telegram "
            "id."), COORDINATORS, RETENTION),
    Kept("polls", ("question", "options", "created_by", "result"),
         N_("Polls coordinators send: the question and options, which coordinator wrote them, "
            "and the counted result (counts only, no names)."),
         N_("coordinators; the organisations it was sent to read it and its results"),
         RETENTION),
    Kept("poll_copies", ("chat_id", "org_id", "message_id", "tg_poll_id"),
         N_("Which chats of which organisations each poll was sent to, with Telegram's ids for "
            "each copy (to know which organisation a vote counts for)."), COORDINATORS,
         RETENTION),
    Kept("poll_votes", ("user_id", "org_id", "choices"),
         N_("Votes in polls: the choice, the organisation it counts for, and who voted (people "
            "who do not answer for an organisation the poll reached are counted apart)."),
         COORDINATORS,
         N_("the vote until your organisation uses /exit; who voted until /forget or {days} "
            "days")),
    Kept("help_requests", ("org_id", "asked_by", "text"),
         N_("Requests for help (/ask): the organisation that asked, who asked, the kind of help, "
            "the urgency and your description, and how it ended."),
         N_("coordinators; the organisations that offer that help read the description, and "
            "your organisation's name only if you chose to show it"),
         N_("the request until your organisation uses /exit; who asked until /forget or "
            "{days} days; the description {days} days after it closes")),
    Kept("help_targets", ("chat_id", "org_id"),
         N_("Which chats of which organisations each request for help was sent to."),
         COORDINATORS, RETENTION),
    Kept("help_offers", ("org_id", "answered_by", "intro_name", "intro_username",
                         "asker_chat_id", "helper_chat_id"),
         N_("Your organisation's answer to a request for help (we can help, not now), who "
            "pressed it, and, once both sides agreed, the two private chats the bot passes "
            "messages between (and your name and username if you asked to be introduced)."),
         N_("coordinators, and the organisation that asked once it accepts your offer"),
         N_("the answer until your organisation uses /exit; who pressed it and the chats "
            "until /forget or {days} days")),
    Kept("help_relays", ("from_chat_id", "from_message_id", "to_chat_id", "to_message_id"),
         N_("Messages the bot passed on between two organisations that agreed to meet: the "
            "chats and Telegram's message ids only (never the text)."),
         N_("the bot only"), RETENTION),
]

KEPT.append(Kept(
    "digest_settings", ("chat_id",),
    N_("Each chat's digest schedule (daily, weekly or off, and the hour) and when the last one "
       "was sent."), N_("the bot only"), UNTIL_ERASED))

# Tables with no personal data, and why.
NOTHING_PERSONAL: dict[str, str] = {
    "instances": "running bot processes and their heartbeats",
    "leases": "which process holds the sender",
    "anonymous_counts": "named counters only",
    "alembic_version": "the schema's revision",
    "bot_state": "the bot's own values (the webhook secret)",
}

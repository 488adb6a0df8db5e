"""The tables. The schema is made and changed only by Alembic (`migrations/`), never `create_all`.

Privacy (rule Q) starts here: a person is kept as an id, a language and a reachable flag; no names,
no usernames, no message texts outside the short-lived saved updates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.db.states import AlertStatus, OutboxState, PollStatus
from bot.db.types import BigIntPK, TelegramId, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SavedUpdate(Base):
    """An update from Telegram, saved before it is confirmed (rule U) and handled from here.

    status: received -> handling -> done. `attempts` counts handling starts, so a re-run after a
    crash is visible. Rows are deleted a day after they are handled.
    """

    __tablename__ = "saved_updates"

    update_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="received")
    lane: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_saved_updates_status_id", "status", "update_id"),
        Index("ix_saved_updates_lane_status", "lane", "status"),
    )


class Chat(Base):
    """A chat the bot is in: a private chat (id = the person's id), a group or a supergroup."""

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(4), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Person(Base):
    """A Telegram user the bot has met. Reachable once they `/start` (rule P)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    language_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    reachable: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Coordinator(Base):
    """A coordinator added in the bot (those in COORDINATOR_IDS are coordinators regardless)."""

    __tablename__ = "coordinators"

    user_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    added_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Conversation(Base):
    """The state of a guided flow for one person in one chat (rule C): any instance continues it."""

    __tablename__ = "conversations"

    chat_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScheduledTask(Base):
    """Every scheduled thing is a row with its due time in UTC (rule S).

    status: pending -> running -> done | missed | failed. A sweeper claims due rows in a
    transaction, so each runs once whatever the number of instances; after a restart nothing is
    rebuilt. `dedupe_key` makes scheduling the same thing twice a no-op.
    """

    __tablename__ = "scheduled_tasks"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(48))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    dedupe_key: Mapped[str | None] = mapped_column(String(160), nullable=True, unique=True)
    claimed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (Index("ix_scheduled_tasks_status_due", "status", "due_at"),)


class Instance(Base):
    """A running bot process, with a heartbeat, so others can tell a crashed one from a busy one.

    Claims (saved updates being handled, scheduled rows running) held by an instance whose heartbeat
    stopped are handed back. Wall-clock milliseconds, not the injectable clock: liveness is about
    processes, and the test clock jumps.
    """

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_ms: Mapped[int] = mapped_column(BigInteger)
    heartbeat_ms: Mapped[int] = mapped_column(BigInteger)


class Fanout(Base):
    """One message sent to many chats (an alert, a poll, a digest...): the unit of progress.

    `key` makes enqueuing the same thing twice (a double tap, a replayed update) create it once.
    """

    __tablename__ = "fanouts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))
    total: Mapped[int] = mapped_column(Integer, default=0)
    report_chat_id: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    report_message_id: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    report_text_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reported_final: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxRow(Base):
    """One recipient chat of a fan-out (rule D), with a forward-only state.

    state: queued -> sending -> sent | failed | unreachable. A row waiting to be retried stays
    `sending` with `claimed_by` empty and `next_attempt_at` ahead. `lost_answers` counts sends
    whose answer never came (a time-out, a crash while in flight): each may have landed as a copy
    whose message id is unknown (an orphan), so a row with lost answers is possibly duplicated.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    fanout_id: Mapped[int] = mapped_column(ForeignKey("fanouts.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(TelegramId)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12), default=OutboxState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lost_answers: Mapped[int] = mapped_column(Integer, default=0)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    message_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the copy was deleted from the chat (a low-profile organisation's choice).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("fanout_id", "chat_id"),
        Index("ix_outbox_state_next", "state", "next_attempt_at"),
        Index("ix_outbox_chat", "chat_id"),
    )


class Lease(Base):
    """A named lease (e.g. the sender's): one holder at a time, expiring by the wall clock."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(40))
    expires_ms: Mapped[int] = mapped_column(BigInteger)


class Organisation(Base):
    """A member of the coalition (docs/DESIGN.md, "Words"): who it is, where it works, what it
    follows and offers.

    status: pending -> active | rejected; active <-> suspended; active -> left. `areas` are ISO
    3166-2 states (`MX-JAL`) and/or ISO 3166-1 countries (`MX`); `topics` and `capacities` are
    codes from bot/services/shared/vocabulary.py.
    """

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str] = mapped_column(String(12))
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacities: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(4), default="es")
    only_contacts_answer: Mapped[bool] = mapped_column(Boolean, default=False)
    # Low profile (member safety): other members see only `alias`, or nothing when it is empty;
    # messages to its chats are protected and, when `delete_after_hours` is set, deleted then.
    low_profile: Mapped[bool] = mapped_column(Boolean, default=False)
    alias: Mapped[str | None] = mapped_column(String(60), nullable=True)
    delete_after_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    requested_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    decided_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    approval_fanout_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_organisations_status", "status"),)


class Contact(Base):
    """A Telegram user who speaks for an organisation; a person belongs to at most one."""

    __tablename__ = "contacts"

    user_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    added_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_contacts_org", "org_id"),)


class MemberChat(Base):
    """A group that speaks for an organisation and receives the coalition's messages for it."""

    __tablename__ = "member_chats"

    chat_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    member_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    linked_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_member_chats_org", "org_id"),)


class Invitation(Base):
    """A single-use, expiring deep link: https://t.me/<bot>?start=inv_<code>."""

    __tablename__ = "invitations"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True)
    org_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    tier: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_by: Mapped[int] = mapped_column(TelegramId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEntry(Base):
    """What a coordinator (or contact) changed: ids and action names only (rule Q)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    org_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    target_id: Mapped[int | None] = mapped_column(TelegramId, nullable=True)


class SentMessage(Base):
    """A message the bot sent, kept while Telegram still lets the bot delete it (48 hours).

    Why: `/exit` deletes the bot's recent messages in an org's chats, and a low-profile org may
    ask for its messages to be deleted after some hours (`delete_at`). Fan-out copies are in the
    outbox rows; this holds the rest (replies, menus).
    """

    __tablename__ = "sent_messages"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(TelegramId)
    message_id: Mapped[int] = mapped_column(TelegramId)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delete_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_sent_messages_chat", "chat_id"),
        Index("ix_sent_messages_delete_at", "delete_at"),
        Index("ix_sent_messages_sent_at", "sent_at"),
    )


class AnonymousCount(Base):
    """What is left of erased things: a named counter (e.g. organisations that used /exit)."""

    __tablename__ = "anonymous_counts"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


# -- alerts (issue 7) ---------------------------------------------------------------------------


class Alert(Base):
    """A warning coordinators send to the organisations it concerns (rule T), and its answers.

    status: draft -> sent. A draft is made at the composer's first preview (so Send can name it);
    Send is a conditional update `WHERE status = 'draft'` in the transaction that enqueues the
    fan-out keyed by the alert's id, so a double tap or a replayed update sends once. `asks` are
    the answers offered (acknowledge, sign_on, affected, can_help); `kinds` narrows the audience
    when `audience == 'kinds'`. `strangers_erased` keeps the count of strangers' presses whose
    rows were erased (/forget), so the count shown does not shrink.
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    body_es: Mapped[str | None] = mapped_column(Text, nullable=True)
    body_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    severity: Mapped[str] = mapped_column(String(8), default="info")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    audience: Mapped[str] = mapped_column(String(8), default="all")
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    asks: Mapped[list[str]] = mapped_column(JSON, default=list)
    auto_nudge_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    composed_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    report_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(8), default=AlertStatus.DRAFT.value)
    fanout_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    nudge_fanout_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    strangers_erased: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # issue 8 (follow-through): the second coordinator who approved it (two-person rule; status
    # `review` while it waits), its corrections (each a fan-out `alert.fix:<id>:<n>`), its
    # withdrawal, and a statement organisations sign on to.
    approved_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    corrections: Mapped[int | None] = mapped_column(Integer, nullable=True)
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdraw_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    statement_es: Mapped[str | None] = mapped_column(Text, nullable=True)
    statement_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    sign_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    min_signatures: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (Index("ix_alerts_status_sent", "status", "sent_at"),)


class AlertTarget(Base):
    """A chat an alert was sent to, and the organisation it was sent for (rule T at Send time).

    Why kept: answers count only for organisations the alert reached, and the nudge goes to the
    chats of the organisations that stayed silent, whatever changed in membership since.
    """

    __tablename__ = "alert_targets"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(4))

    __table_args__ = (Index("ix_alert_targets_org", "org_id", "alert_id"),)


class AlertAnswer(Base):
    """An organisation's answer to an alert (rule A): its latest answer stands.

    `answered_by` is the person who pressed, for coordinators' follow-up; /forget sets it NULL
    (the answer stays the organisation's) and the retention purge does the same for old rows.
    """

    __tablename__ = "alert_answers"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    answer: Mapped[str] = mapped_column(String(12))
    capacity: Mapped[str | None] = mapped_column(String(24), nullable=True)
    answered_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_alert_answers_org", "org_id"),)


class AlertStranger(Base):
    """A press by someone who answers for no reached organisation: thanked, counted apart."""

    __tablename__ = "alert_strangers"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    answer: Mapped[str] = mapped_column(String(12))
    pressed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Report(Base):
    """A local warning raised by a contact (/report), for coordinators to turn into an alert.

    status: open -> drafted | dismissed. The document is kept as Telegram's `file_id` only.
    """

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(BigInteger)
    reporter_id: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    file_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    file_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    state: Mapped[str | None] = mapped_column(String(8), nullable=True)
    language: Mapped[str] = mapped_column(String(4), default="es")
    status: Mapped[str] = mapped_column(String(12), default="open")
    decided_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    fanout_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_reports_created", "created_at"),)


class Poll(Base):
    """A poll on priorities (issue 9): a question, 2-10 options, how votes combine, who is asked.

    kind: single | multiple | ranked. counting: org (one vote per organisation, its latest) |
    person. `allies_count`: whether allies' votes count in the headline result (members' and
    allies' tallies are always kept apart). `audience`: tiers, kinds, topics and regions (rule T).
    status: open -> closed. `result` is the counted result kept at the close (counts only, no
    names), so it survives an organisation's erasure.
    """

    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(String(300))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(8))
    counting: Mapped[str] = mapped_column(String(8), default="org")
    allies_count: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(8), default=PollStatus.OPEN.value)
    created_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fanout_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reached_orgs: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (Index("ix_polls_status", "status"),)


class PollCopy(Base):
    """One chat's copy of a poll: which organisation it speaks for, and Telegram's ids for it.

    `tg_poll_id` is how a `poll_answer` (which names no chat) is traced back to the chat and so to
    the organisation (rule A); a copy whose answer was lost (an orphan, rule D) never gets one, and
    votes on it stay unattributed. `token` names the copy in a ranked ballot's deep link.
    """

    __tablename__ = "poll_copies"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(TelegramId)
    org_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    token: Mapped[str] = mapped_column(String(16), unique=True)
    tg_poll_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    message_id: Mapped[int | None] = mapped_column(TelegramId, nullable=True)

    __table_args__ = (
        UniqueConstraint("poll_id", "chat_id"),
        Index("ix_poll_copies_chat", "chat_id"),
    )


class PollVote(Base):
    """A person's current answer on one copy of a poll (their latest; empty choices = retracted).

    `ballot` is the Telegram poll id voted on (or `c<copy id>` for a ranked ballot), so a vote
    on a copy not traced yet is kept and attributed when it is. `standing`: org (counts for
    `org_id`, rule A) | stranger (shown apart, never counted) | unknown (copy not traced: an
    orphan's vote, counted apart). `seq` is the update id: the latest answer wins, and a replayed
    update (rule U) writes the same row again.
    """

    __tablename__ = "poll_votes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    ballot: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    poll_id: Mapped[int | None] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), nullable=True)
    copy_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    org_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    standing: Mapped[str] = mapped_column(String(8), default="unknown")
    choices: Mapped[list[int]] = mapped_column(JSON, default=list)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("ballot", "user_id"),
        Index("ix_poll_votes_poll", "poll_id"),
        Index("ix_poll_votes_at", "at"),
    )


class BotState(Base):
    """Small values the bot keeps for itself, e.g. the webhook secret it generated."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(300))


# -- advocacy actions (issue 10) ------------------------------------------------------------------


class Action(Base):
    """A dated advocacy action (a hearing, a deadline, a meeting, a sign-on closing) and its
    audience (rule T), announced with RSVP buttons and reminded at `offsets` before it starts.

    status: draft -> scheduled -> cancelled. `starts_at` is UTC; `timezone` is the zone the
    coordinator wrote it in (shown back to them). `version` grows with every move: reminder rows
    and their fan-outs are keyed by it, so a move replaces the reminders and nothing is sent
    twice. `offsets` are minutes before the start (default 7 days, 1 day, 1 hour).
    """

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    kind: Mapped[str] = mapped_column(String(12), default="other")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    timezone: Mapped[str] = mapped_column(String(64))
    place: Mapped[str | None] = mapped_column(String(500), nullable=True)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    audience: Mapped[str] = mapped_column(String(8), default="all")
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    offsets: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    fanout_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    strangers_erased: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_actions_status_starts", "status", "starts_at"),)


class ActionTarget(Base):
    """A chat an action was announced in, for which organisation (rule T at announce time):
    reminders, changes and RSVPs follow what was announced."""

    __tablename__ = "action_targets"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_action_targets_org", "org_id", "action_id"),)


class ActionRsvp(Base):
    """An organisation's answer to an action (rule A): going, not_going or maybe; the latest
    stands. `answered_by` (who pressed) goes at /forget and after the retention period."""

    __tablename__ = "action_rsvps"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    answer: Mapped[str] = mapped_column(String(10))
    answered_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_action_rsvps_org", "org_id"),)


class ActionStranger(Base):
    """An RSVP press by someone who answers for no reached organisation: counted apart."""

    __tablename__ = "action_strangers"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    answer: Mapped[str] = mapped_column(String(10))
    pressed_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- solidarity responses (issue 12) ---------------------------------------------------------------


class HelpRequest(Base):
    """A member organisation asking for help (a capacity), and what came of it.

    status: open -> matched (an offer accepted) -> closed (`outcome`: helped | not_needed |
    no_help). `visibility`: coordinators (matched by hand) | members (sent to the organisations
    that offer the capacity). `anonymous`: the others never read the asking organisation's
    name (a low-profile organisation asks so unless it chooses otherwise). `asked_by` goes at
    /forget and after the retention period; `state` is the asking organisation's state for
    the measures (no name). `alert_id` is the alert it relates to, if any.
    """

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(BigInteger)
    asked_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    capacity: Mapped[str] = mapped_column(String(24))
    urgency: Mapped[str] = mapped_column(String(8), default="routine")
    text: Mapped[str] = mapped_column(Text)
    alert_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    visibility: Mapped[str] = mapped_column(String(12), default="members")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str | None] = mapped_column(String(8), nullable=True)
    language: Mapped[str] = mapped_column(String(4), default="es")
    status: Mapped[str] = mapped_column(String(8), default="open")
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)
    fanout_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_offer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_help_requests_status_created", "status", "created_at"),
        Index("ix_help_requests_org", "org_id"),
    )


class HelpTarget(Base):
    """A chat a request was sent to, for which organisation, in which order (closest first).

    Why kept: only an organisation the request reached may offer, whatever changed since."""

    __tablename__ = "help_targets"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("help_requests.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    chat_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(BigInteger)
    rank: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_help_targets_org", "org_id", "request_id"),)


class HelpOffer(Base):
    """An organisation's answer to a request (rule A): can_help or not_now, its latest stands.

    `answered_by` is the contact who offered: the private chat the bot relays with. `intro`:
    they agreed to be introduced by name (then `intro_name`/`intro_username` are kept, until
    /forget). status: answered -> accepted (by the asking organisation) -> ended (closed).
    `meet`: relay | introduce, decided when both agreed. `asker_chat_id`/`helper_chat_id` are
    the two private chats of an accepted offer.
    """

    __tablename__ = "help_offers"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("help_requests.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    org_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    answer: Mapped[str] = mapped_column(String(8))
    intro: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_by: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    intro_name: Mapped[str | None] = mapped_column(String(130), nullable=True)
    intro_username: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="answered")
    meet: Mapped[str | None] = mapped_column(String(10), nullable=True)
    asker_chat_id: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    helper_chat_id: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_help_offers_org", "org_id"),
        Index("ix_help_offers_asker_chat", "asker_chat_id"),
        Index("ix_help_offers_helper_chat", "helper_chat_id"),
    )


class HelpRelay(Base):
    """One message the bot copied across an accepted offer: where from, where to, Telegram's
    ids. Why kept: a reply to a relayed copy goes back along the same offer, and a message
    handled twice (rule U) is copied once."""

    __tablename__ = "help_relays"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("help_requests.id", ondelete="CASCADE"))
    offer_org_id: Mapped[int] = mapped_column(BigInteger)
    from_chat_id: Mapped[int] = mapped_column(TelegramId)
    from_message_id: Mapped[int] = mapped_column(TelegramId)
    to_chat_id: Mapped[int] = mapped_column(TelegramId)
    to_message_id: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("from_chat_id", "from_message_id"),
        Index("ix_help_relays_to", "to_chat_id", "to_message_id"),
        Index("ix_help_relays_at", "at"),
    )


class DigestSetting(Base):
    """A chat's digest schedule (issue 11); no row means weekly on Mondays at 09:00 local.

    `covered_until` is where the last digest ended, so one found late covers the whole gap.
    Chat 0 holds the coordinators' digest.
    """

    __tablename__ = "digest_settings"

    chat_id: Mapped[int] = mapped_column(TelegramId, primary_key=True, autoincrement=False)
    frequency: Mapped[str] = mapped_column(String(8), default="weekly")
    hour: Mapped[int] = mapped_column(Integer, default=9)
    covered_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertSignature(Base):
    """An organisation's signature under an alert's statement (issue 8): once per organisation,
    by one of its contacts (rule A), under the name the contact chose.

    `signer_id` and `name` are personal (rule Q): /forget clears the signer, the retention purge
    clears old signers; the signature stays the organisation's.
    """

    __tablename__ = "alert_signatures"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    signer_id: Mapped[int | None] = mapped_column(TelegramId, nullable=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)

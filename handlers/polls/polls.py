"""Polls on priorities (issue 9): /poll (coordinators), /polls, votes, ranked ballots.

/poll is a guided flow kept in the conversation row (rule C): question, options, kind, counting,
allies, audience, closing time, then a preview with Send / Edit / Cancel. Send creates the poll
and its copies and puts them in the outbox in one transaction (rule D), with the close, the
nudge and the tracing of copies as scheduled rows (rule S, handlers/polls/tasks.py). Votes on
native polls arrive as `poll_answer` updates (no chat: the copy's traced Telegram poll id names
it); ranked polls are voted in the private chat, reached by a deep link under each copy.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CommandHandler,
    ContextTypes,
    PollAnswerHandler,
    filters,
)

from bot import i18n
from bot.config import Settings
from bot.db.models import Poll, PollCopy
from bot.db.states import PollStatus
from bot.delivery import outbox
from bot.i18n import Text
from bot.runtime import runtime_of
from bot.scheduler import schedule
from bot.services.polls import polls, results
from bot.services.shared import conversations, people
from bot.services.shared.roles import Role
from handlers.polls import render
from handlers.shared import counts
from handlers.shared.buttons import on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, anonymous_refusal, here, reply, reply_photo
from handlers.shared.steps import step

log = logging.getLogger(__name__)

FLOW = "poll"
BALLOT = "ballot"
TEXT_STEPS = ("question", "options", "filters", "closes")
CHOICE_STEPS = ("kind", "counting", "allies", "audience")
ORDER = ("question", "options", "kind", "counting", "allies", "audience", "filters", "closes",
         "confirm")
TRACE_EVERY = timedelta(seconds=2)


# --- button data --------------------------------------------------------------------------------

@action("pc")
@dataclasses.dataclass(frozen=True)
class PollChoice:
    step: str
    value: str

    def valid(self) -> bool:
        return self.step in CHOICE_STEPS and 0 < len(self.value) <= 12


@action("pd")
@dataclasses.dataclass(frozen=True)
class PollDecide:
    """Send ("s"), Edit ("e") or Cancel ("x") under the preview."""

    what: str

    def valid(self) -> bool:
        return self.what in ("s", "e", "x")


@action("pr")
@dataclasses.dataclass(frozen=True)
class PollResults:
    poll: int

    def valid(self) -> bool:
        return self.poll > 0


@action("pi")
@dataclasses.dataclass(frozen=True)
class PollInfo:
    poll: int

    def valid(self) -> bool:
        return self.poll > 0


@action("bk")
@dataclasses.dataclass(frozen=True)
class BallotRank:
    poll: int
    option: int

    def valid(self) -> bool:
        return self.poll > 0 and 0 <= self.option < polls.MAX_OPTIONS


@action("bu")
@dataclasses.dataclass(frozen=True)
class BallotUndo:
    poll: int


@action("bc")
@dataclasses.dataclass(frozen=True)
class BallotConfirm:
    poll: int


# --- the /poll flow -------------------------------------------------------------------------------

def not_coordinator(t: Text) -> str:
    return t.tr("Only coordinators can do this.")


def question(t: Text, name: str, draft: polls.Draft) -> str:
    if name == "question":
        return t.tr("What is the poll's question? (up to 300 characters, or /cancel)")
    if name == "options":
        return t.tr("Send the options, one a line: 2 to 10 options of up to 100 characters.")
    if name == "kind":
        return t.tr("What kind of poll is it?")
    if name == "counting":
        return t.tr("Who counts?")
    if name == "allies":
        return t.tr("Do allies' votes count in the headline result? (Members' and allies' tallies "
                    "are always shown apart.)")
    if name == "audience":
        return t.tr("Which organisations are asked?")
    if name == "filters":
        return t.tr("Only some organisations? Send filters such as state=MX-JAL,MX-OAX topic=tax "
                    "kind=cso (states or countries, topics, kinds), or “all”.")
    if name == "closes":
        return t.tr("When does it close? Send a duration (for example 3d, 12h, 90m) or a date and "
                    "time in this chat's time zone (for example 2026-12-01 18:00).")
    return render.preview(t, draft)


def choices(t: Text, name: str) -> list[tuple[str, str]]:
    if name == "kind":
        return [(k, t.tr(label)) for k, label in render.KIND_LABELS.items()]
    if name == "counting":
        return [(k, t.tr(label)) for k, label in render.COUNTING_LABELS.items()]
    if name == "allies":
        return [("yes", t.tr("Yes")), ("no", t.tr("No"))]
    if name == "audience":
        return [(k, t.tr(label)) for k, label in render.AUDIENCES.items()]
    return []


def keyboard(where: Here, name: str) -> InlineKeyboardMarkup | None:
    t = where.t
    if name == "confirm":
        return InlineKeyboardMarkup([[
            InlineKeyboardButton(t.tr("Send"), callback_data=encode(PollDecide("s"))),
            InlineKeyboardButton(t.tr("Edit"), callback_data=encode(PollDecide("e"))),
            InlineKeyboardButton(t.tr("Cancel"), callback_data=encode(PollDecide("x"))),
        ]])
    rows = [[InlineKeyboardButton(label, callback_data=encode(PollChoice(name, value)))]
            for value, label in choices(t, name)]
    return InlineKeyboardMarkup(rows) if rows else None


async def load(where: Here) -> tuple[str, polls.Draft] | None:
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id,
                                            where.rt.clock.now())
    if state is None or state.flow != FLOW:
        return None
    return state.step, polls.Draft.from_json(state.data.get("draft") or {})


async def save(where: Here, name: str, draft: polls.Draft) -> None:
    async with where.rt.db.transaction() as session:
        await conversations.save(session, where.chat_id, where.user_id,
                                 conversations.State(FLOW, name, {"draft": draft.to_json()}),
                                 where.rt.clock.now())


async def ask(update: Update, where: Here, name: str, draft: polls.Draft,
              reason: str | None = None) -> None:
    reach = None
    if name == "confirm":  # the preview says whom the poll reaches (rule T), before Send
        async with where.rt.db.transaction() as session:
            reached = await polls.recipients(session, draft.audience())
        reach = (len({r.org_id for r in reached}), len(reached))

    def build(t: Text) -> str:
        text = question(t, name, draft)
        if reach is not None:
            text += "\n\n" + render.reach_line(t, *reach)
        return f"{t.tr(reason)}\n\n{text}" if reason else text

    await reply(update, where, build, markup=keyboard(where, name))


def next_step(name: str) -> str:
    return ORDER[ORDER.index(name) + 1]


async def allowed(update: Update, where: Here) -> bool:
    """Rule R: coordinators only, in their private chat."""
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return False
    if where.role is not Role.COORDINATOR:
        log.info("polls.refused")
        await reply(update, where, not_coordinator)
        return False
    if not where.private:
        await reply(update, where, lambda t: t.tr("Please send /poll to me in a private chat."))
        return False
    return True


async def poll_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await allowed(update, where):
        return
    draft = polls.Draft()
    await save(where, "question", draft)
    log.info("polls.compose_started")
    await ask(update, where, "question", draft)


@step(FLOW, "question")
async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                          text: str) -> None:
    await answer_text(update, where, "question", text)


@step(FLOW, "options")
async def answer_options(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                         text: str) -> None:
    await answer_text(update, where, "options", text)


@step(FLOW, "filters")
async def answer_filters(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                         text: str) -> None:
    await answer_text(update, where, "filters", text)


@step(FLOW, "closes")
async def answer_closes(update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                        text: str) -> None:
    await answer_text(update, where, "closes", text)


async def answer_text(update: Update, where: Here, name: str, text: str) -> None:
    loaded = await load(where)
    if loaded is None or loaded[0] != name:
        return
    if where.role is not Role.COORDINATOR:
        async with where.rt.db.transaction() as session:
            await conversations.finish(session, where.chat_id, where.user_id)
        await reply(update, where, not_coordinator)
        return
    draft = loaded[1]
    if name == "question":
        value = polls.clean_question(text)
        if value is None:
            await ask(update, where, name, draft, i18n.N_(
                "That question cannot be used: it must have 1 to 300 characters."))
            return
        draft.question = value
    elif name == "options":
        options = polls.clean_options(text)
        if options is None:
            await ask(update, where, name, draft, i18n.N_(
                "Those options cannot be used: send 2 to 10 different options, one a line, of "
                "up to 100 characters each."))
            return
        draft.options = options
    elif name == "filters":
        filters_ = polls.parse_filters(text)
        if filters_ is None:
            await ask(update, where, name, draft, i18n.N_(
                "I do not know one of those filters or codes. Use state=, topic= and kind= with "
                "the codes /members uses, or send “all”."))
            return
        draft.regions, draft.topics, draft.kinds = filters_
    else:
        closes = polls.parse_close(text, where.rt.clock.now(), where.timezone)
        if closes is None:
            await ask(update, where, name, draft, i18n.N_(
                "I could not read that closing time, or it is less than 5 minutes away."))
            return
        draft.closes_at = closes.isoformat()
    following = next_step(name)
    await save(where, following, draft)
    await ask(update, where, following, draft)


async def stale(update: Update, where: Here) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(where.t.tr("This button is no longer valid."))


@on(PollChoice)
async def choice_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: PollChoice) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if where.role is not Role.COORDINATOR:
        await query.answer(not_coordinator(where.t), show_alert=True)
        return
    loaded = await load(where)
    if loaded is None or loaded[0] != pressed.step or pressed.value not in dict(
            choices(where.t, pressed.step)):
        await stale(update, where)
        return
    draft = loaded[1]
    if pressed.step == "kind":
        draft.kind = pressed.value
    elif pressed.step == "counting":
        draft.counting = pressed.value
    elif pressed.step == "allies":
        draft.allies_count = pressed.value == "yes"
    else:
        draft.tiers = [] if pressed.value == "all" else [pressed.value]
    await query.answer()
    following = next_step(pressed.step)
    await save(where, following, draft)
    await ask(update, where, following, draft)


@on(PollDecide)
async def decide_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: PollDecide) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if where.role is not Role.COORDINATOR:
        log.info("polls.send_refused")
        await query.answer(not_coordinator(where.t), show_alert=True)
        return
    loaded = await load(where)
    if loaded is None or loaded[0] != "confirm":
        await stale(update, where)
        return
    draft = loaded[1]
    await query.answer()
    if pressed.what == "x":
        async with where.rt.db.transaction() as session:
            await conversations.finish(session, where.chat_id, where.user_id)
        await reply(update, where, lambda t: t.tr("Cancelled. Nothing was sent."))
        return
    if pressed.what == "e":
        await save(where, "question", draft)
        await ask(update, where, "question", draft, i18n.N_(
            "Let's go through the poll again; each answer replaces the one before."))
        return
    closes = draft.closes()
    if not draft.complete() or closes is None or closes - where.rt.clock.now() < polls.MIN_OPEN:
        await save(where, "closes", draft)
        await ask(update, where, "closes", draft, i18n.N_(
            "The closing time has passed or is too near: please send a new one."))
        return
    poll_id, chats, orgs = await publish(where, draft)
    where.rt.wake_sender()
    log.info("polls.sent poll=%d chats=%d", poll_id, chats)
    await reply(update, where, lambda t: t.tr(
        "The poll was sent to {chats} of {orgs}. Results: /polls",
        chats=counts.chats(t, chats), orgs=counts.orgs(t, orgs)))


async def publish(where: Here, draft: polls.Draft) -> tuple[int, int, int]:
    """Create the poll, put every copy in the outbox and schedule its close, nudge and tracing,
    in one transaction; the composing flow ends in the same one (a double press sends once)."""
    rt = where.rt
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id, now)
        if state is None or state.flow != FLOW:
            return 0, 0, 0
        poll, copies = await polls.create(session, draft, where.user_id, now)
        messages = [copy_message(rt.bot_username, poll, copy, recipient, rt.settings, now)
                    for copy, recipient in copies]
        fanout = await outbox.enqueue(session, f"poll:{poll.id}", "poll", messages, now)
        await polls.set_fanout(session, poll.id, fanout)
        await schedule(session, polls.CLOSE_KIND, poll.closes_at, {"poll": poll.id},
                       dedupe_key=f"{polls.CLOSE_KIND}:{poll.id}")
        nudge_at = polls.nudge_time(now, poll.closes_at)
        if nudge_at is not None:
            await schedule(session, polls.NUDGE_KIND, nudge_at,
                           {"poll": poll.id, "closes": poll.closes_at.isoformat()},
                           dedupe_key=f"{polls.NUDGE_KIND}:{poll.id}")
        if poll.kind != "ranked":
            await schedule(session, polls.TRACE_KIND, now + TRACE_EVERY, {"poll": poll.id})
        await conversations.finish(session, where.chat_id, where.user_id)
        return poll.id, len(copies), poll.reached_orgs


def copy_message(bot_username: str, poll: Poll, copy: PollCopy, recipient: polls.Recipient,
                 settings: Settings, now: datetime) -> outbox.Outgoing:
    """One chat's copy: a native poll, or for a ranked poll an announcement with a deep link."""
    lang = recipient.language or settings.default_language
    timezone = recipient.timezone or settings.timezone
    if poll.kind != "ranked":
        return outbox.Outgoing(recipient.chat_id, poll=render.native_poll(poll, now))
    text = i18n.render(lang, timezone, lambda t: render.ranked_announcement(t, poll))
    label = i18n.label(lang, lambda t: t.tr("Rank the options"))
    url = f"https://t.me/{bot_username}?start=rk_{copy.token}"
    return outbox.Outgoing(recipient.chat_id, text=text, buttons=[[{"text": label, "url": url}]])


# --- /polls and results ---------------------------------------------------------------------------

async def polls_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    if where.role is Role.STRANGER:
        await reply(update, where, lambda t: t.tr(
            "Only coordinators and the contacts of member organisations can see polls."))
        return
    coordinator = where.role is Role.COORDINATOR
    async with where.rt.db.transaction() as session:
        found = await polls.recent(session, closed_only=not coordinator)
    if not found:
        await reply(update, where, lambda t: t.tr("There are no polls yet."))
        return

    def build(t: Text) -> str:
        lines = [t.tr("<b>Polls</b>")]
        for n, poll in enumerate(found, 1):
            state = (t.tr("closed") if poll.status == PollStatus.CLOSED
                     else t.tr("open until {date}", date=t.datetime(poll.closes_at, "short")))
            lines.append(t.tr("{n}. {question} ({state})", n=n, question=poll.question,
                              state=state))
        return "\n".join(lines)

    rows = [[InlineKeyboardButton(where.t.tr("Results {n}", n=n),
                                  callback_data=encode(PollResults(p.id)))]
            for n, p in enumerate(found, 1)]
    await reply(update, where, build, markup=InlineKeyboardMarkup(rows))


@on(PollResults)
async def results_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: PollResults) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    coordinator = where.role is Role.COORDINATOR
    async with where.rt.db.transaction() as session:
        poll = await polls.get(session, pressed.poll)
        allowed_now = poll is not None and (coordinator or (
            where.role is Role.MEMBER and poll.status == PollStatus.CLOSED))
        result = None
        if poll is not None and allowed_now:
            result = (results.Result.from_json(poll.result) if poll.result
                      else await results.tally(session, poll))
    if poll is None or result is None:
        log.info("polls.results_refused")
        await query.answer(where.t.tr("These results are not available to you."), show_alert=True)
        return
    await query.answer()
    await reply(update, where, lambda t: render.results_text(
        t, poll, result, coordinator_view=coordinator))
    try:  # the chart comes with the results; drawing takes a while, so off the event loop
        chart = await asyncio.to_thread(render.chart_for, where.t, poll, result)
    except ImportError:
        return
    await reply_photo(update, where, chart.png, lambda t: render.chart_caption(t, poll))


@on(PollInfo)
async def info_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: PollInfo) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        poll = await polls.get(session, pressed.poll)
    if poll is None:
        await stale(update, where)
        return
    await query.answer(render.how_counted(where.t, poll)[:190], show_alert=True)


# --- votes on native polls (rule A) ---------------------------------------------------------------

async def poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A vote, a changed vote or a retraction (no options) on one chat's copy."""
    answer = update.poll_answer
    if answer is None or answer.user is None:
        return
    rt = runtime_of(context)
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        recorded = await polls.record(session, answer.poll_id, answer.user.id,
                                      list(answer.option_ids), update.update_id, now)
        reachable = await people.is_reachable(session, answer.user.id)
    log.info("polls.vote standing=%s poll=%s", recorded.standing, recorded.poll_id)
    if recorded.standing == "stranger" and answer.option_ids and reachable:
        await thank_stranger(context, answer.user.id, answer.user.language_code)


async def thank_stranger(context: ContextTypes.DEFAULT_TYPE, user_id: int,
                         language_code: str | None) -> None:
    rt = runtime_of(context)
    lang = i18n.normalise(language_code) or rt.settings.default_language
    await context.bot.send_message(user_id, i18n.render(lang, rt.settings.timezone,
                                                        render.stranger_thanks))


# --- ranked ballots (private chat) ----------------------------------------------------------------

async def ballot_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/start rk_<token>`: open the ranked ballot of the copy the link was under."""
    args = context.args or []
    if not args or not args[0].startswith("rk_"):
        return
    where = await here(update, context)
    user = update.effective_user
    assert user is not None
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        await people.record_start(session, where.user_id, user.language_code, now)
        copy = await polls.copy_by_token(session, args[0][3:][:16])
        poll = await polls.get(session, copy.poll_id) if copy is not None else None
        if poll is not None and copy is not None and poll.status == PollStatus.OPEN \
                and now < poll.closes_at:
            await conversations.save(session, where.chat_id, where.user_id, conversations.State(
                BALLOT, "rank", {"poll": poll.id, "copy": copy.id, "ranking": []}), now)
    if poll is None or poll.status != PollStatus.OPEN or now >= poll.closes_at:
        await reply(update, where, lambda t: t.tr("This poll is closed or no longer exists."))
        raise ApplicationHandlerStop
    await show_ballot(update, where, poll, [])
    raise ApplicationHandlerStop


def ballot_keyboard(where: Here, poll: Poll, ranking: list[int]) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(option[:60], callback_data=encode(BallotRank(poll.id, i)))]
            for i, option in enumerate(poll.options) if i not in ranking]
    row = []
    if ranking:
        row.append(InlineKeyboardButton(where.t.tr("Undo"),
                                        callback_data=encode(BallotUndo(poll.id))))
        row.append(InlineKeyboardButton(where.t.tr("Confirm"),
                                        callback_data=encode(BallotConfirm(poll.id))))
    if row:
        rows.append(row)
    return InlineKeyboardMarkup(rows)


async def show_ballot(update: Update, where: Here, poll: Poll, ranking: list[int]) -> None:
    await reply(update, where, lambda t: render.ballot_text(t, poll, ranking),
                markup=ballot_keyboard(where, poll, ranking))


@on(BallotRank, BallotUndo, BallotConfirm)
async def ballot_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: BallotRank | BallotUndo | BallotConfirm) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        state = await conversations.current(session, where.chat_id, where.user_id, now)
        poll = await polls.get(session, pressed.poll)
    if (state is None or state.flow != BALLOT or state.data.get("poll") != pressed.poll
            or poll is None or not where.private):
        await stale(update, where)
        return
    ranking = [int(o) for o in state.data.get("ranking") or []]
    if poll.status != PollStatus.OPEN or now >= poll.closes_at:
        await query.answer(where.t.tr("This poll is closed or no longer exists."), show_alert=True)
        return
    if isinstance(pressed, BallotConfirm):
        await confirm_ballot(update, where, poll, int(state.data["copy"]), ranking)
        return
    if isinstance(pressed, BallotRank):
        if pressed.option in ranking or pressed.option >= len(poll.options):
            await stale(update, where)
            return
        ranking.append(pressed.option)
    elif ranking:
        ranking.pop()
    await query.answer()
    async with where.rt.db.transaction() as session:
        await conversations.save(session, where.chat_id, where.user_id, conversations.State(
            BALLOT, "rank", {**state.data, "ranking": ranking}), now)
    await show_ballot(update, where, poll, ranking)


async def member_of(update: Update, chat_id: int, user_id: int) -> bool:
    """Whether Telegram says this person is in the chat now (rule A for a ballot opened by a
    link: the link can be forwarded to anyone). An error counts as not: a stranger's vote is
    kept apart, never lost."""
    try:
        member = await update.get_bot().get_chat_member(chat_id, user_id)
    except TelegramError:
        return False
    return member.status in ("creator", "administrator", "member") or bool(
        getattr(member, "is_member", False))


async def confirm_ballot(update: Update, where: Here, poll: Poll, copy_id: int,
                         ranking: list[int]) -> None:
    query = update.callback_query
    assert query is not None
    if not ranking:
        await query.answer(where.t.tr("Rank at least one option first."), show_alert=True)
        return
    now = where.rt.clock.now()
    async with where.rt.db.reader() as session:
        copy = await polls.copy(session, copy_id)
    in_chat = True
    if copy is not None and not copy.private:
        in_chat = await member_of(update, copy.chat_id, where.user_id)
    async with where.rt.db.transaction() as session:
        recorded = await polls.record(session, f"c{copy_id}", where.user_id, ranking,
                                      update.update_id, now, copy=copy, in_chat=in_chat)
        await conversations.finish(session, where.chat_id, where.user_id)
    await query.answer()
    log.info("polls.ballot standing=%s poll=%d", recorded.standing, poll.id)
    if recorded.standing == "stranger":
        await reply(update, where, render.stranger_thanks)
        return
    await reply(update, where, lambda t: t.tr(
        "Thank you: your ranking was recorded. You can change it with the same link until the "
        "poll closes."))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add this module's commands; the ballot's deep link runs before the generic /start."""
    application.add_handler(CommandHandler("poll", poll_command))
    application.add_handler(CommandHandler("polls", polls_command))
    application.add_handler(CommandHandler(
        "start", ballot_start, filters=filters.ChatType.PRIVATE & filters.Regex(r"\srk_")),
        group=-1)


def answer_handler() -> PollAnswerHandler:  # type: ignore[type-arg]
    return PollAnswerHandler(poll_answer)

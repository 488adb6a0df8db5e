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
from collections.abc import Callable
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
from bot.services.shared import vocabulary as v
from bot.services.shared.roles import Role
from handlers.polls import render
from handlers.shared import counts, when
from handlers.shared.audience import places_step
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, anonymous_refusal, here, reply, reply_photo
from handlers.shared.guided import PREVIEW, Composer, Kind, Refuse, StateDrafts, Step, stale

log = logging.getLogger(__name__)

FLOW = "poll"
BALLOT = "ballot"
TRACE_EVERY = timedelta(seconds=2)


# --- button data (the composer's own buttons come from the guided-flow kit) ----------------------

@action("pd")
@dataclasses.dataclass(frozen=True)
class PollSend:
    """Send under the preview (Edit and Cancel are the kit's)."""


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


# --- the /poll flow, as its steps -----------------------------------------------------------------

def _question(where: Here, text: str, draft: polls.Draft) -> dict[str, object] | Refuse:
    value = polls.clean_question(text)
    if value is None:
        return Refuse(lambda t: t.tr(
            "That question cannot be used: it must have 1 to 300 characters."))
    return {"question": value}


def _options(where: Here, text: str, draft: polls.Draft) -> dict[str, object] | Refuse:
    options = polls.clean_options(text)
    if options is None:
        return Refuse(lambda t: t.tr(
            "Those options cannot be used: send 2 to 10 different options, one a line, of up to "
            "100 characters each."))
    return {"options": options}


def _filters(where: Here, text: str, draft: polls.Draft) -> dict[str, object] | Refuse:
    found = polls.parse_filters(text)
    if found is None:
        return Refuse(lambda t: t.tr(
            "I do not know one of those filters or codes. Use state=, topic= and kind= with the "
            "codes /members uses, or send “all”."))
    regions, topics, kinds = found
    return {"regions": regions, "topics": topics, "kinds": kinds, "narrow": False}


def _narrowed(draft: polls.Draft) -> bool:
    return draft.narrow


def _closes_check(where: Here, moment: datetime) -> Callable[[Text], str] | None:
    """A poll stays open at least MIN_OPEN and at most a year."""
    if not polls.open_for_long_enough(moment, where.rt.clock.now()):
        return lambda t: t.tr(
            "I could not read that closing time, or it is less than 5 minutes away.")
    return None


def _labels(labels: dict[str, str]) -> Callable[[Text, polls.Draft], list[tuple[str, str]]]:
    return lambda t, _: [(k, t.tr(label)) for k, label in labels.items()]


STEPS = (
    Step("question", Kind.TEXT, lambda t, _: t.tr(
        "What is the poll's question? (up to 300 characters, or /cancel)"), parse=_question),
    Step("options", Kind.TEXT, lambda t, _: t.tr(
        "Send the options, one a line: 2 to 10 options of up to 100 characters."),
        parse=_options),
    Step("kind", Kind.CHOICE, lambda t, _: t.tr("What kind of poll is it?"),
         options=_labels(render.KIND_LABELS), per_row=1),
    Step("counting", Kind.CHOICE, lambda t, _: t.tr("Who counts?"),
         options=_labels(render.COUNTING_LABELS), per_row=1),
    Step("allies", Kind.CHOICE, lambda t, _: t.tr(
        "Do allies' votes count in the headline result? (Members' and allies' tallies are "
        "always shown apart.)"), options=lambda t, _: [("yes", t.tr("Yes")), ("no", t.tr("No"))],
        pick=lambda value, _: {"allies_count": value == "yes"}, per_row=1),
    Step("audience", Kind.CHOICE, lambda t, _: t.tr("Which organisations are asked?"),
         options=_labels(render.AUDIENCES), per_row=1,
         pick=lambda value, _: {"tiers": [] if value == "all" else [value]}),
    Step("filters", Kind.CHOICE, lambda t, _: t.tr(
        "All of them, or only some? Choose, or type filters such as state=Jalisco,Oaxaca "
        "topic=tax kind=cso (states or countries, topics, kinds), or “all”."),
        options=lambda t, _: [("all", t.tr("All of them")),
                              ("some", t.tr("Only some: by place, topic or kind"))],
        per_row=1, parse=_filters, pick=lambda value, _: (
            {"narrow": True} if value == "some"
            else {"narrow": False, "regions": [], "topics": [], "kinds": []})),
    # "Only some": the composers' one place picker, then the topics and kinds
    dataclasses.replace(places_step(lambda t, _: t.tr(
        "Which places? Press them, or type part of a name (Jalisco, Guatemala…); choose none "
        "for every place. Then press Done.")), applies=_narrowed, label=None),
    Step("topics", Kind.TOGGLE, lambda t, _: t.tr(
        "Which topics? Organisations following one of them are asked; choose none for every "
        "topic. Then press Done."), options=_labels(v.TOPICS), per_row=2, applies=_narrowed),
    Step("kinds", Kind.TOGGLE, lambda t, _: t.tr(
        "Which kinds of organisation? Choose none for every kind. Then press Done."),
        options=_labels(v.KINDS), per_row=2, applies=_narrowed),
    Step("closes", Kind.TEXT, lambda t, _: t.tr(
        "When does it close? Send a duration (for example 3d, 12h, 90m) or a date and time in "
        "this chat's time zone (for example 2026-12-01 18:00)."),
        parse=when.reader("closes_at", default_time=when.END_OF_DAY, check=_closes_check,
                          keep=lambda moment: moment.isoformat()),
        said=when.echo(lambda draft: draft.closes())),
)


async def preview(update: Update, where: Here, draft: polls.Draft) -> None:
    """The poll as it will read, whom it reaches (rule T), and Send / Edit / Cancel."""
    async with where.rt.db.transaction() as session:
        reached = await polls.recipients(session, draft.audience())
    reach = (len({r.org_id for r in reached}), len(reached))
    markup = COMPOSER.controls(where, draft, InlineKeyboardButton(
        where.t.tr("Send"), callback_data=encode(PollSend())))
    await reply(update, where, lambda t: render.preview(t, draft) + "\n\n"
                + render.reach_line(t, *reach), markup=markup)


COMPOSER = Composer(
    FLOW, STEPS, StateDrafts(polls.Draft.from_json, lambda draft: draft.to_json()), preview,
    cancelled=lambda t: t.tr("Cancelled. Nothing was sent."),
    private_only=lambda t: t.tr("Please send /poll to me in a private chat."),
    edit_again=lambda t: t.tr(
        "Let's go through the poll again; each answer replaces the one before."))


async def poll_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if not await COMPOSER.allowed(update, where):
        return
    log.info("polls.compose_started")
    await COMPOSER.open(update, where, {}, draft=polls.Draft())


@on(PollSend, owner=Owner.DATA, who=Who.COORDINATOR)
async def send_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: PollSend) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    opened = await COMPOSER.load(where) if where.private else None
    if opened is None or opened.step != PREVIEW:
        await stale(update, where)
        return
    await query.answer()
    draft = opened.draft
    closes = draft.closes()
    if not draft.complete() or closes is None or closes - where.rt.clock.now() < polls.MIN_OPEN:
        opened.step = "closes"
        await COMPOSER.save(where, opened)
        await COMPOSER.ask(update, where, opened, lambda t: t.tr(
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
                     else t.tr("open until {date}", date=t.moment(poll.closes_at, with_zone=True)))
            lines.append(t.tr("{n}. {question} ({state})", n=n, question=poll.question,
                              state=state))
        return "\n".join(lines)

    rows = [[InlineKeyboardButton(where.t.tr("Results {n}", n=n),
                                  callback_data=encode(PollResults(p.id)))]
            for n, p in enumerate(found, 1)]
    await reply(update, where, build, markup=InlineKeyboardMarkup(rows))


@on(PollResults, owner=Owner.DATA)
async def results_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         pressed: PollResults) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    # The coordinators' view (an open poll's tallies, groups too small for members to see) only
    # where only coordinators read it: their private chat or the coordination group.
    coordinator = where.role is Role.COORDINATOR and (
        where.private or where.chat_id == where.rt.settings.coordination_chat_id)
    async with where.rt.db.transaction() as session:
        poll = await polls.get(session, pressed.poll)
        allowed_now = poll is not None and (coordinator or (
            where.role in (Role.MEMBER, Role.COORDINATOR) and poll.status == PollStatus.CLOSED))
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


@on(PollInfo, owner=Owner.DATA)
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


@on(BallotRank, BallotUndo, BallotConfirm, owner=Owner.DATA)
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

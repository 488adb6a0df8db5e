"""The guided-flow kit: a composer is a declaration of its steps (rule C).

Every guided flow asks questions one at a time, keeps where it stands in the conversation row
(so a restart or another instance goes on), and offers the same few gestures: a choice, toggles
with Done, a text (one message, or several joined, with Done), Skip on an optional step, the
preview's Edit menu (change one part, then back to the preview) and Cancel. Those gestures were
written once per composer, each a little differently; here they are written once:

- `Step` says what one step asks and how its answer is read (`parse` for a text, `options` for
  buttons, `applies` for a step asked only for some drafts, `then` for the step an edit of this
  one brings with it).
- `Composer` holds a flow's steps, where its draft lives (`RowDrafts`: a row of its own, the
  conversation keeps its id; `StateDrafts`: the draft itself, as JSON, in the conversation), who
  may use it and what its preview shows. It registers its text steps with `handlers/shared/steps`
  and answers the shared button data below, so a composer defines no button data, no load, save,
  ask or go-on, no stale or press guard of its own.
- Edits of a message sent into a flow: an edit replaces the answer it edits while that step is
  open (a part of a text of several messages, or a refused answer) and is ignored after.

Adding a step to a composer is one `Step(...)` in its declaration, placed where it is asked.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.i18n import Text
from bot.services.shared import conversations
from bot.services.shared.drafts import DraftStore
from handlers.shared.buttons import Owner, Who, on, refusal
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, anonymous_refusal, here, reply
from handlers.shared.pressed import redraw_buttons
from handlers.shared.steps import EDITS, step

log = logging.getLogger(__name__)

PREVIEW = "preview"
Draft = Any
Build = Callable[[Text], str]


class Kind(StrEnum):
    TEXT = "text"  # one message
    PARTS = "parts"  # several messages, joined, then Done
    CHOICE = "choice"  # one button
    TOGGLE = "toggle"  # several buttons, then Done


@dataclasses.dataclass(frozen=True)
class Refuse:
    """A text answer that cannot be used: why, said before the question again."""

    reason: Build


@dataclasses.dataclass(frozen=True)
class Step:
    name: str
    kind: Kind
    question: Callable[[Text, Draft], str]
    # TEXT (or a CHOICE that may also be typed): the values an answer sets, or why it cannot
    # be used (may be a coroutine: a step
    # whose answer decides what is asked next may look things up)
    parse: Callable[[Here, str, Draft], Any] | None = None
    # TEXT: what the accepted answer was understood as, said before what comes next (a date
    # typed as "viernes 18:00" is echoed in full, with its zone, before it is used)
    said: Callable[[Text, Draft, Any], str] | None = None  # (t, draft, the bot's now)
    # TEXT: a document sent instead of a text, as the values it sets (a report's evidence)
    document: Callable[[Any], dict[str, object]] | None = None
    # CHOICE and TOGGLE: the buttons, as (value, label)
    options: Callable[[Text, Draft], list[tuple[str, str]]] | None = None
    # CHOICE: the values a chosen button sets (default: the step's field is the value)
    pick: Callable[[str, Draft], dict[str, object]] | None = None
    # TOGGLE: the values chosen so far, and the value kept for a list of chosen ones
    chosen: Callable[[Draft], list[str]] | None = None
    keep: Callable[[list[str]], object] | None = None
    # TOGGLE: typed text finds values to tick (places by part of their name); what it found
    search: Callable[[Text, str, Draft], tuple[list[str], list[str]]] | None = None
    # a CHOICE step that is a TOGGLE for some drafts (a regional organisation's countries)
    toggles: Callable[[Draft], bool] | None = None
    field: str | None = None  # the draft's attribute (default: the step's name)
    # a TEXT step with Skip, which keeps what the draft has (a report's link, say); changed from
    # the Edit menu, the step starts from `skipped`, so Skip then leaves none
    optional: bool = False
    skipped: object = None
    max_chars: int = 0  # PARTS: the joined text's limit
    applies: Callable[[Draft], bool] | None = None  # asked only when this holds
    then: Callable[[Draft], str | None] | None = None  # after an edit from the preview
    # why Done is refused (said with the question again): the draft, and whether editing
    done: Callable[[Text, Draft, bool], str | None] | None = None
    on_done: Callable[[Draft], dict[str, object]] | None = None  # values Done (or Skip) sets
    label: str | None = None  # its name in the Edit menu (N_); None: not editable
    editable: Callable[[Draft], bool] | None = None  # offered in the Edit menu (default: applies)
    reset: Callable[[], dict[str, object]] | None = None  # cleared when chosen from Edit
    per_row: int = 0  # buttons a row (0: 2 when more than 3, else 1)

    @property
    def attribute(self) -> str:
        return self.field or self.name

    def is_toggle(self, draft: Draft) -> bool:
        if self.toggles is not None:
            return self.toggles(draft)
        return self.kind is Kind.TOGGLE

    def asked(self, draft: Draft) -> bool:
        return self.applies is None or self.applies(draft)


# --- where a draft lives ----------------------------------------------------------------------

class RowDrafts:
    """A draft that is a row of its own (status draft): the conversation keeps its id."""

    def __init__(self, store: DraftStore[Any], key: str) -> None:
        self.store, self.key = store, key

    def ident(self, data: dict[str, Any]) -> int:
        return int(data.get(self.key) or 0)

    async def get(self, session: Any, data: dict[str, Any], user_id: int) -> Draft | None:
        return await self.store.of(session, self.ident(data), user_id)

    async def put(self, session: Any, data: dict[str, Any], draft: Draft, user_id: int,
                  now: Any, values: dict[str, object]) -> Draft | None:
        return await self.store.update(session, self.ident(data), user_id, now, **values)

    async def discard(self, session: Any, data: dict[str, Any], user_id: int) -> bool:
        return await self.store.discard(session, self.ident(data), user_id)


class StateDrafts:
    """A draft kept in the conversation row itself, as JSON (nothing else to clean up)."""

    key = "draft"

    def __init__(self, from_json: Callable[[dict[str, Any]], Draft],
                 to_json: Callable[[Draft], dict[str, Any]]) -> None:
        self.from_json, self.to_json = from_json, to_json

    def ident(self, data: dict[str, Any]) -> int:
        return 0

    async def get(self, session: Any, data: dict[str, Any], user_id: int) -> Draft | None:
        return self.from_json(data.get("draft") or {})

    async def put(self, session: Any, data: dict[str, Any], draft: Draft, user_id: int,
                  now: Any, values: dict[str, object]) -> Draft | None:
        for name, value in values.items():
            setattr(draft, name, value)
        data["draft"] = self.to_json(draft)
        return draft

    async def discard(self, session: Any, data: dict[str, Any], user_id: int) -> bool:
        return True

    @classmethod
    def of(cls, kind: type) -> StateDrafts:
        """Drafts of a plain dataclass: its fields as JSON (unknown keys of an older row go)."""
        names = {f.name for f in dataclasses.fields(kind)}
        return cls(lambda data: kind(**{k: v for k, v in data.items() if k in names}),
                   dataclasses.asdict)


# --- the shared button data -------------------------------------------------------------------

COMPOSERS: dict[str, Composer] = {}


def _known(flow: str, name: str) -> bool:
    composer = COMPOSERS.get(flow)
    return composer is not None and name in composer.by_name


@action("gc")
@dataclasses.dataclass(frozen=True)
class FlowChoice:
    flow: str
    step: str
    value: str

    def valid(self) -> bool:
        return _known(self.flow, self.step) and 0 < len(self.value) <= 24


@action("gt")
@dataclasses.dataclass(frozen=True)
class FlowToggle:
    flow: str
    step: str
    value: str

    def valid(self) -> bool:
        return _known(self.flow, self.step) and 0 < len(self.value) <= 24


@action("gd")
@dataclasses.dataclass(frozen=True)
class FlowDone:
    """Done (a text of several messages, toggles) or Skip (an optional text)."""

    flow: str
    step: str

    def valid(self) -> bool:
        return _known(self.flow, self.step)


@action("ge")
@dataclasses.dataclass(frozen=True)
class FlowEdit:
    """The preview's Edit: which part to change (the draft's id, or 0 for a draft in the row)."""

    flow: str
    draft: int

    def valid(self) -> bool:
        return self.flow in COMPOSERS


@action("gf")
@dataclasses.dataclass(frozen=True)
class FlowField:
    flow: str
    step: str

    def valid(self) -> bool:
        return _known(self.flow, self.step)


@action("gx")
@dataclasses.dataclass(frozen=True)
class FlowCancel:
    flow: str
    draft: int

    def valid(self) -> bool:
        return self.flow in COMPOSERS


# --- an open flow -----------------------------------------------------------------------------

@dataclasses.dataclass
class Open:
    """A person's open flow: its step, its draft and what the conversation row keeps."""

    step: str
    draft: Draft
    data: dict[str, Any]

    @property
    def editing(self) -> bool:
        """One part changed from the preview: back to the preview after it."""
        return bool(self.data.get("editing"))


@dataclasses.dataclass
class Composer:
    flow: str
    steps: Sequence[Step]
    drafts: RowDrafts | StateDrafts
    preview: Callable[[Update, Here, Draft], Awaitable[None]]
    cancelled: Build
    private_only: Build
    who: Who = Who.COORDINATOR
    to_private: bool = False  # the private-only refusal carries a button to the private chat
    # Edit goes through every question again (each answer replaces the one before), said
    # first, instead of the menu of parts
    edit_again: Build | None = None

    def __post_init__(self) -> None:
        self.by_name = {s.name: s for s in self.steps}
        self.order = [s.name for s in self.steps]
        if self.flow in COMPOSERS or len(self.flow) > 12 or ":" in self.flow:
            raise ValueError(f"bad or duplicate flow name {self.flow!r}")
        COMPOSERS[self.flow] = self
        for name in [*self.order, PREVIEW]:
            step(self.flow, name)(self.text_answer)
        EDITS[self.flow] = self.edited

    # -- state ---------------------------------------------------------------------------------

    async def open(self, update: Update, where: Here, data: dict[str, Any],
                   draft: Draft | None = None, first: str | None = None,
                   reason: Build | None = None) -> None:
        """Start the flow (its draft made by the caller) at `first` or its first step asked;
        a flow runs in the private chat (its answers may name what a group must not read)."""
        if not where.private:
            await reply(update, where, self.private_only,
                        markup=to_private(where) if self.to_private else None)
            return
        data = dict(data)
        if isinstance(self.drafts, StateDrafts):
            data["draft"] = self.drafts.to_json(draft)
        async with where.rt.db.transaction() as session:
            found = await self.drafts.get(session, data, where.user_id)
            if found is None:
                return
            name = first or self._following(None, found, data)
            await conversations.save(session, where.chat_id, where.user_id,
                                     conversations.State(self.flow, name, data),
                                     where.rt.clock.now())
        await self.ask(update, where, Open(name, found, data), reason)

    async def start_in(self, session: Any, chat_id: int, user_id: int, draft: Draft,
                       now: Any) -> str | None:
        """Open the flow inside the caller's transaction, for a chat other than the update's
        (a press in a group whose question goes to the presser's private chat through the
        outbox); the first step's name, for the caller to ask it there. None when another
        flow is open there: the person cannot see it being replaced, so it is not."""
        current = await conversations.current(session, chat_id, user_id, now)
        if current is not None and current.flow != self.flow:
            return None
        data: dict[str, Any] = {}
        if isinstance(self.drafts, StateDrafts):
            data["draft"] = self.drafts.to_json(draft)
        name = self._following(None, draft, data)
        await conversations.save(session, chat_id, user_id,
                                 conversations.State(self.flow, name, data), now)
        return name

    async def load(self, where: Here) -> Open | None:
        async with where.rt.db.transaction() as session:
            state = await conversations.current(session, where.chat_id, where.user_id,
                                                where.rt.clock.now())
            if state is None or state.flow != self.flow:
                return None
            draft = await self.drafts.get(session, state.data, where.user_id)
        if draft is None:
            return None
        return Open(state.step, draft, state.data)

    async def sendable(self, where: Here, ident: int) -> bool:
        """Whether the capability's Send may act on draft `ident`: only from its preview. A
        draft whose flow is at another step, or was cancelled, is not sendable (a forged Send
        would skip the questions left); one no longer a draft is, for the service to answer
        ("already sent")."""
        opened = await self.load(where)
        if opened is not None and self.drafts.ident(opened.data) == ident:
            return opened.step == PREVIEW
        if isinstance(self.drafts, RowDrafts):
            async with where.rt.db.reader() as session:
                return await self.drafts.store.of(session, ident, where.user_id) is None
        return False

    async def save(self, where: Here, opened: Open, **values: object) -> Draft | None:
        """The step and the draft's changed values, in one transaction."""
        now = where.rt.clock.now()
        async with where.rt.db.transaction() as session:
            draft = await self.drafts.put(session, opened.data, opened.draft, where.user_id, now,
                                          values)
            if draft is None:
                return None
            await conversations.save(session, where.chat_id, where.user_id,
                                     conversations.State(self.flow, opened.step, opened.data), now)
        opened.draft = draft
        return draft

    def _following(self, current: str | None, draft: Draft, data: dict[str, Any]) -> str:
        """The next step asked after `current` (None: the first), skipping those that do not
        apply to this draft or were filled in before the flow opened."""
        index = 0 if current is None else self.order.index(current) + 1
        prefilled = set(data.get("prefilled") or [])
        while index < len(self.order):
            s = self.steps[index]
            if s.asked(draft) and s.name not in prefilled:
                return s.name
            index += 1
        return PREVIEW

    def next_step(self, opened: Open) -> str:
        if opened.editing:
            s = self.by_name[opened.step]
            follow = s.then(opened.draft) if s.then is not None else None
            return follow or PREVIEW
        return self._following(opened.step, opened.draft, opened.data)

    async def go_on(self, update: Update, where: Here, opened: Open, *,
                    said: Build | None = None, **values: object) -> None:
        """Record the values, move to the next step and ask it (after `said`, what the answer
        was understood as, when the step echoes it)."""
        for name, value in values.items():
            setattr(opened.draft, name, value)
        opened.step = self.next_step(opened)
        opened.data.pop("parts", None)
        opened.data.pop("refused", None)
        if opened.step == PREVIEW:
            opened.data["editing"] = False
        if await self.save(where, opened, **values) is None:
            return
        # the echo comes with the next question; the preview shows the value itself
        await self.ask(update, where, opened, said if opened.step != PREVIEW else None)

    # -- asking --------------------------------------------------------------------------------

    def keyboard(self, where: Here, name: str, draft: Draft) -> InlineKeyboardMarkup | None:
        t = where.t
        s = self.by_name[name]
        if s.kind is Kind.TEXT:
            return InlineKeyboardMarkup([[InlineKeyboardButton(
                t.tr("Skip"), callback_data=encode(FlowDone(self.flow, name)))]]) \
                if s.optional else None
        if s.kind is Kind.PARTS:
            return InlineKeyboardMarkup([[InlineKeyboardButton(
                t.tr("Done"), callback_data=encode(FlowDone(self.flow, name)))]])
        assert s.options is not None
        choices = s.options(t, draft)
        toggle = s.is_toggle(draft)
        picked = self._chosen(s, draft) if toggle else []
        per_row = s.per_row or (2 if len(choices) > 3 else 1)
        buttons = []
        for value, label in choices:
            if toggle:
                text = f"✅ {label}" if value in picked else label
                data = encode(FlowToggle(self.flow, name, value))
            else:
                text, data = label, encode(FlowChoice(self.flow, name, value))
            buttons.append(InlineKeyboardButton(text, callback_data=data))
        rows = [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]
        if toggle:
            rows.append([InlineKeyboardButton(
                t.tr("Done"), callback_data=encode(FlowDone(self.flow, name)))])
        return InlineKeyboardMarkup(rows) if rows else None

    async def ask(self, update: Update, where: Here, opened: Open,
                  reason: Build | None = None) -> None:
        """Ask the open step's question (after why the last answer was refused), or preview."""
        if opened.step == PREVIEW:
            await self.preview(update, where, opened.draft)
            return
        s = self.by_name[opened.step]

        def build(t: Text) -> str:
            text = s.question(t, opened.draft)
            return f"{reason(t)}\n\n{text}" if reason else text

        await reply(update, where, build, markup=self.keyboard(where, opened.step, opened.draft))

    def controls(self, where: Here, draft: Draft, send: InlineKeyboardButton,
                 edit: bool = True) -> InlineKeyboardMarkup:
        """The preview's buttons: the capability's own Send, then Edit and Cancel."""
        t = where.t
        ident = getattr(draft, "id", 0) if isinstance(self.drafts, RowDrafts) else 0
        row = [send]
        if edit:
            row.append(InlineKeyboardButton(t.tr("Edit"),
                                            callback_data=encode(FlowEdit(self.flow, ident))))
        row.append(InlineKeyboardButton(t.tr("Cancel"),
                                        callback_data=encode(FlowCancel(self.flow, ident))))
        return InlineKeyboardMarkup([row])

    # -- who may -------------------------------------------------------------------------------

    async def allowed(self, update: Update, where: Here) -> bool:
        """Rule R for a command that opens the flow: the declared role, in private."""
        if where.anonymous:
            await reply(update, where, anonymous_refusal)
            return False
        refused = await refusal(self.who, where)
        if refused is not None:
            log.info("flow.refused flow=%s", self.flow)
            await reply(update, where, lambda t: refusal_text(t, self.who, where))
            return False
        if not where.private:
            await reply(update, where, self.private_only,
                        markup=to_private(where) if self.to_private else None)
            return False
        return True

    # -- answers -------------------------------------------------------------------------------

    async def text_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE,
                          where: Here, text: str) -> None:
        opened = await self.load(where) if where.private else None
        if opened is None:
            return
        if await refusal(self.who, where) is not None:  # a coordinator removed mid-flow
            async with where.rt.db.transaction() as session:
                await conversations.finish(session, where.chat_id, where.user_id)
            await reply(update, where, lambda t: refusal_text(t, self.who, where))
            return
        message = update.effective_message
        await self.take(update, where, opened, text,
                        message.message_id if message is not None else 0)

    async def take(self, update: Update, where: Here, opened: Open, text: str,
                   message_id: int, replacing: bool = False) -> None:
        s = self.by_name.get(opened.step)
        if s is not None and s.kind is Kind.TOGGLE and s.search is not None:
            await self._search(update, where, opened, s, text)
            return
        typed_choice = s is not None and s.kind is Kind.CHOICE and s.parse is not None
        if s is None or (s.kind in (Kind.CHOICE, Kind.TOGGLE) and not typed_choice):
            await self.ask(update, where, opened, lambda t: t.tr(
                "Please answer with the buttons."))
            return
        if s.kind is Kind.PARTS:
            await self._add_part(update, where, opened, s, text, message_id, replacing)
            return
        assert s.parse is not None
        parsed = s.parse(where, text, opened.draft)
        if inspect.isawaitable(parsed):
            parsed = await parsed
        if isinstance(parsed, Refuse):
            opened.data["refused"] = message_id  # an edit of it, while the step is open, answers
            await self.save(where, opened)
            log.info("flow.answer_refused flow=%s step=%s", self.flow, s.name)
            await self.ask(update, where, opened, parsed.reason)
            return
        draft, now = opened.draft, where.rt.clock.now()
        echo = (lambda t: s.said(t, draft, now)) if s.said is not None else None  # type: ignore[misc]
        await self.go_on(update, where, opened, said=echo, **parsed)

    async def _search(self, update: Update, where: Here, opened: Open, s: Step,
                      text: str) -> None:
        """Typed text on a step of toggles that searches: what it finds is ticked (nothing is
        unticked), and the question comes again with its buttons."""
        assert s.search is not None and s.options is not None
        offered = dict(s.options(where.t, opened.draft))
        matched, left = s.search(where.t, text, opened.draft)
        found = [value for value in matched if value in offered]
        missed = " ".join(left)[:60] or text.strip()[:60]
        if not found:
            await self.ask(update, where, opened, lambda t: t.tr(
                "Nothing matches “{text}”. Press a button, or type part of a name.",
                text=missed))
            return
        picked = [*self._chosen(s, opened.draft), *found]
        picked = [value for value in offered if value in picked]
        await self.save(where, opened, **{
            s.attribute: s.keep(picked) if s.keep is not None else picked})
        names = ", ".join(offered[value] for value in found)

        def said(t: Text) -> str:
            text = t.tr("Ticked: {names}.", names=names)
            if left:
                text += " " + t.tr("Nothing matches “{text}”. Press a button, or type part of "
                                   "a name.", text=missed)
            return text

        await self.ask(update, where, opened, said)

    async def _add_part(self, update: Update, where: Here, opened: Open, s: Step, text: str,
                        message_id: int, replacing: bool) -> None:
        parts: list[list[Any]] = [list(p) for p in opened.data.get("parts") or []]
        if not parts and getattr(opened.draft, s.attribute):  # text kept from before
            parts = [[0, getattr(opened.draft, s.attribute)]]
        if replacing:
            parts = [[mid, text.strip() if mid == message_id else part] for mid, part in parts]
        else:
            parts.append([message_id, text.strip()])
        body = "\n\n".join(part for _, part in parts if part)
        if s.max_chars and len(body) > s.max_chars:
            await reply(update, where, lambda t: t.tr(
                "The text would be longer than {n} characters; that part was not added.",
                n=t.number(s.max_chars)), markup=self.keyboard(where, s.name, opened.draft))
            return
        opened.data["parts"] = parts
        if await self.save(where, opened, **{s.attribute: body}) is None:
            return
        changed = (lambda t: t.tr_plural(
            "Changed. The text now has {n} character. Send more to add to it, or press Done.",
            "Changed. The text now has {n} characters. Send more to add to it, or press Done.",
            len(body))) if replacing else (lambda t: t.tr_plural(
                "Added. The text now has {n} character. Send more to add to it, or press Done.",
                "Added. The text now has {n} characters. Send more to add to it, or press Done.",
                len(body)))
        await reply(update, where, changed, markup=self.keyboard(where, s.name, opened.draft))

    async def take_document(self, update: Update, where: Here, document: Any) -> bool:
        """A document sent while the open step takes one; False when it does not."""
        opened = await self.load(where) if where.private else None
        s = self.by_name.get(opened.step) if opened is not None else None
        if opened is None or s is None or s.document is None or \
                await refusal(self.who, where) is not None:
            return False
        await self.go_on(update, where, opened, **s.document(document))
        return True

    async def edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE, where: Here,
                     message_id: int, text: str) -> bool:
        """An edit of a message sent into this flow: it replaces that answer while its step is
        open (a part of a text, or a refused answer); False when it is not one (ignored)."""
        opened = await self.load(where) if where.private else None
        if opened is None or await refusal(self.who, where) is not None:
            return False
        if any(mid == message_id for mid, _ in opened.data.get("parts") or []):
            log.info("flow.part_edited flow=%s step=%s", self.flow, opened.step)
            await self.take(update, where, opened, text, message_id, replacing=True)
            return True
        if opened.data.get("refused") == message_id:
            log.info("flow.refused_answer_edited flow=%s step=%s", self.flow, opened.step)
            await self.take(update, where, opened, text, message_id)
            return True
        return False

    def _chosen(self, s: Step, draft: Draft) -> list[str]:
        if s.chosen is not None:
            return s.chosen(draft)
        return [str(x) for x in getattr(draft, s.attribute) or []]

    async def pressed(self, update: Update, where: Here,
                      pressed: FlowChoice | FlowToggle | FlowDone) -> None:
        query = update.callback_query
        assert query is not None
        opened = await self.load(where) if where.private else None
        s = self.by_name[pressed.step]
        if opened is None or opened.step != pressed.step:
            await stale(update, where)
            return
        draft = opened.draft
        if isinstance(pressed, FlowDone):
            # Done belongs to toggles and texts of several messages, Skip to optional texts:
            # forged on any other step (a title, a choice) it would skip a required answer
            offered = s.is_toggle(draft) or s.kind is Kind.PARTS or \
                (s.kind is Kind.TEXT and s.optional)
            if not offered:
                await stale(update, where)
                return
            why = s.done(where.t, draft, opened.editing) if s.done is not None else None
            if why is not None:  # said with the question again, the choices kept
                await query.answer()
                await self.ask(update, where, opened, lambda t: s.done(t, draft, opened.editing)
                               or "")
                return
            await query.answer()
            values = s.on_done(draft) if s.on_done is not None else {}
            await self.go_on(update, where, opened, **values)
            return
        toggle = s.is_toggle(draft)
        if s.options is None or isinstance(pressed, FlowToggle) != toggle:
            await stale(update, where)
            return
        if pressed.value not in dict(s.options(where.t, draft)):  # forged, or a list changed
            await query.answer()
            await self.ask(update, where, opened, lambda t: t.tr(
                "That is not one of the choices."))
            return
        if isinstance(pressed, FlowChoice):
            await query.answer()
            values = s.pick(pressed.value, draft) if s.pick is not None \
                else {s.attribute: pressed.value}
            await self.go_on(update, where, opened, **values)
            return
        picked = self._chosen(s, draft)
        picked = ([x for x in picked if x != pressed.value] if pressed.value in picked
                  else [*picked, pressed.value])
        order = [value for value, _ in s.options(where.t, draft)]
        picked = [x for x in order if x in picked]
        saved = await self.save(where, opened, **{
            s.attribute: s.keep(picked) if s.keep is not None else picked})
        await query.answer()
        if saved is not None:
            await redraw_buttons(query, self.keyboard(where, s.name, saved))

    async def edit_menu(self, update: Update, where: Here, pressed: FlowEdit) -> None:
        query = update.callback_query
        assert query is not None
        opened = await self.load(where) if where.private else None
        offers_edit = self.edit_again is not None or any(s.label for s in self.steps)
        if opened is None or opened.step != PREVIEW or not offers_edit or \
                self.drafts.ident(opened.data) != pressed.draft:
            await stale(update, where)
            return
        await query.answer()
        if self.edit_again is not None:
            opened.step = self._following(None, opened.draft, opened.data)
            if await self.save(where, opened) is not None:
                await self.ask(update, where, opened, self.edit_again)
            return
        t = where.t
        buttons = [InlineKeyboardButton(t.tr(s.label), callback_data=encode(
            FlowField(self.flow, s.name))) for s in self.steps
            if s.label is not None and (s.editable or s.asked)(opened.draft)]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        await reply(update, where, lambda tt: tt.tr("What do you want to change?"),
                    markup=InlineKeyboardMarkup(rows))

    async def field(self, update: Update, where: Here, pressed: FlowField) -> None:
        query = update.callback_query
        assert query is not None
        opened = await self.load(where) if where.private else None
        s = self.by_name[pressed.step]
        if opened is None or opened.step != PREVIEW or s.label is None or \
                not (s.editable or s.asked)(opened.draft):  # only what the Edit menu offers
            await stale(update, where)
            return
        await query.answer()
        opened.step = s.name
        opened.data["editing"] = True
        values = s.reset() if s.reset is not None else {}
        if s.kind is Kind.PARTS:  # a new text replaces the old one
            values[s.attribute] = None
        elif s.kind is Kind.TEXT and s.optional:  # Skip now leaves none
            values[s.attribute] = s.skipped
        for name, value in values.items():
            setattr(opened.draft, name, value)
        if await self.save(where, opened, **values) is not None:
            await self.ask(update, where, opened)

    async def cancel(self, update: Update, where: Here, pressed: FlowCancel) -> None:
        query = update.callback_query
        assert query is not None
        async with where.rt.db.transaction() as session:
            state = await conversations.current(session, where.chat_id, where.user_id,
                                                where.rt.clock.now())
            mine = state is not None and state.flow == self.flow and \
                self.drafts.ident(state.data) == pressed.draft
            gone = mine and state is not None and \
                await self.drafts.discard(session, state.data, where.user_id)
            if gone:
                await conversations.finish(session, where.chat_id, where.user_id)
        if not gone:
            await stale(update, where)
            return
        log.info("flow.cancelled flow=%s", self.flow)
        await query.answer()
        await reply(update, where, self.cancelled)


def to_private(where: Here) -> InlineKeyboardMarkup:
    """A button that opens the private chat with the bot (rule C: free text continues there)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        where.label(lambda t: t.tr("Open a private chat with me")),
        url=f"https://t.me/{where.rt.bot_username}")]])


def refusal_text(t: Text, who: Who, where: Here) -> str:
    if who is Who.COORDINATOR:
        return t.tr("Only coordinators can do this.")
    return t.tr("Only the contacts of an active member organisation can do this.")


async def stale(update: Update, where: Here) -> None:
    """A button of another step, another draft or a flow that is over: nothing changes."""
    query = update.callback_query
    assert query is not None
    log.info("flow.stale_button")
    await query.answer(where.t.tr("This button is no longer valid."))


@on(FlowChoice, FlowToggle, FlowDone, FlowEdit, FlowField, FlowCancel, owner=Owner.DATA)
async def flow_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      pressed: FlowChoice | FlowToggle | FlowDone | FlowEdit | FlowField
                      | FlowCancel) -> None:
    """Every composer's buttons: the composer's declared role first (rule R), then the step."""
    composer = COMPOSERS[pressed.flow]
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    refused = await refusal(composer.who, where)
    if refused is not None:
        log.info("button.refused who=%s", composer.who.value)
        await query.answer(refused, show_alert=True)
        return
    if isinstance(pressed, FlowEdit):
        await composer.edit_menu(update, where, pressed)
    elif isinstance(pressed, FlowField):
        await composer.field(update, where, pressed)
    elif isinstance(pressed, FlowCancel):
        await composer.cancel(update, where, pressed)
    else:
        await composer.pressed(update, where, pressed)


"""/alerts: coordinators follow what they sent: reached, delivered, answered, who is silent, and
the one reminder to the silent organisations (issue 7).

Rule R: coordinators only, and only where no member reads (their private chat or the
coordination group), because the status names organisations, low-profile ones included.
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.delivery.outbox import FanoutStatus
from bot.i18n import Safe, Text
from bot.services.alerts import alerts
from bot.services.shared import vocabulary as v
from bot.services.shared.roles import Role
from bot.services.shared.visibility import shown_name
from handlers.alerts.copies import nudge_copy
from handlers.alerts.corrections import follow_through_buttons
from handlers.alerts.render import ASK, ICON, region_name
from handlers.shared import counts
from handlers.shared.buttons import Owner, Who, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, anonymous_refusal, here, reply

log = logging.getLogger(__name__)
RECENT = 10
MAX_SILENT = 40


@action("alst")
@dataclasses.dataclass(frozen=True)
class AlertStatusPress:
    alert: int

    def valid(self) -> bool:
        return self.alert > 0


@action("alnu")
@dataclasses.dataclass(frozen=True)
class AlertNudgePress:
    alert: int

    def valid(self) -> bool:
        return self.alert > 0


def only_coordinators(t: Text) -> str:
    return t.tr("Only coordinators can do this.")


def private_view(t: Text) -> str:
    return t.tr("Alerts' follow-up names member organisations, so I show it only in your private "
                "chat with me (or the coordination group).")


def view_allowed(where: Here) -> bool:
    return where.private or where.chat_id == where.rt.settings.coordination_chat_id


async def alerts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    if where.role is not Role.COORDINATOR:
        log.info("alerts.followup_refused")
        await reply(update, where, only_coordinators)
        return
    if not view_allowed(where):
        await reply(update, where, private_view)
        return
    async with where.rt.db.reader() as session:
        found = await alerts.recent(session, RECENT)
    if not found:
        await reply(update, where, lambda t: t.tr("No alert has been sent yet. Send /alert to "
                                                  "compose one."))
        return

    def build(t: Text) -> str:
        lines = [t.tr("<b>Recent alerts</b>")]
        for n, s in enumerate(found, 1):
            when = t.moment(s.sent_at) if s.sent_at else "—"
            lines.append(t.tr("{n}. {icon} <b>{title}</b> ({when}): reached {orgs} in {chats}; "
                              "delivered {delivered}; answered {answered}",
                              n=n, icon=ICON.get(s.severity, ""), title=s.title, when=when,
                              orgs=counts.orgs(t, s.orgs), chats=counts.chats(t, s.chats),
                              delivered=t.number(s.delivered), answered=t.number(s.answered)))
        return "\n".join(lines)

    t = where.t
    buttons = [InlineKeyboardButton(t.tr("Status {n}", n=n),
                                    callback_data=encode(AlertStatusPress(s.alert_id)))
               for n, s in enumerate(found, 1)]
    rows = [buttons[i:i + 5] for i in range(0, len(buttons), 5)]
    await reply(update, where, build, markup=InlineKeyboardMarkup(rows))


def delivery_lines(t: Text, label: str, d: FanoutStatus) -> list[str]:
    c = d.counts
    lines = [t.tr("{label}: sent {sent} of {total}; waiting {waiting}; failed {failed}; "
                  "unreachable {unreachable}", label=label, sent=t.number(c["sent"]),
                  total=t.number(d.total), waiting=t.number(d.pending),
                  failed=t.number(c["failed"]), unreachable=t.number(c["unreachable"]))]
    if d.possibly_duplicated:
        lines.append(t.tr("Possibly duplicated (an answer was lost): {n}",
                          n=t.number(d.possibly_duplicated)))
    for reason, n in sorted(d.reasons.items(), key=lambda kv: -kv[1])[:3]:
        lines.append(t.tr("• {reason}: {n}", reason=reason, n=t.number(n)))
    return lines


def counts_line(t: Text, label: str, counts: dict[str, str | int], names: dict[str, str]) -> str:
    shown = ", ".join(f"{names.get(k, k)}: {t.number(int(n))}"
                      for k, n in sorted(counts.items(), key=lambda kv: (-int(kv[1]), kv[0])))
    return t.tr("{label}: {value}", label=label, value=shown or "—")


def silent_orgs(t: Text, n: int) -> Safe:
    return Safe(t.tr_plural("{n} organisation that has not answered",
                            "{n} organisations that have not answered", n))


def status_text(t: Text, s: alerts.Status) -> str:
    alert = s.alert
    lines = [
        t.tr("{icon} <b>{title}</b>", icon=ICON.get(alert.severity, ""), title=alert.title),
        t.tr("Sent {when} to {orgs} in {chats}.",
             when=t.moment(alert.sent_at) if alert.sent_at else "—",
             orgs=counts.orgs(t, s.orgs), chats=counts.chats(t, s.chats)),
        "",
    ]
    if alert.withdrawn_at is not None:
        lines.append(t.tr("⛔ Withdrawn {when}: {reason}", when=t.moment(alert.withdrawn_at),
                          reason=alert.withdraw_reason or "—"))
    elif alert.corrections:
        lines.append(t.tr_plural("✏️ Corrected {n} time, last {when}.",
                                 "✏️ Corrected {n} times, last {when}.", alert.corrections,
                                 when=t.moment(alert.corrected_at)
                                 if alert.corrected_at else "—"))
    if s.delivery is not None:
        lines += delivery_lines(t, t.tr("Delivery"), s.delivery)
    if s.nudge is not None:
        lines += delivery_lines(t, t.tr("Reminder"), s.nudge)
    lines += ["", t.tr_plural("<b>Answered: {answered} of {n} organisation</b>",
                              "<b>Answered: {answered} of {n} organisations</b>", s.orgs,
                              answered=t.number(s.answered))]
    lines.append(counts_line(t, t.tr("By answer"), dict(s.by_answer),
                             {k: t.tr(label) for k, label in ASK.items()}))
    if s.capacities:
        lines.append(counts_line(t, t.tr("Help offered"), dict(s.capacities),
                                 {k: t.tr(label) for k, label in v.CAPACITIES.items()}))
    if s.answered:
        lines.append(counts_line(t, t.tr("By kind"), dict(s.by_kind),
                                 {k: t.tr(label) for k, label in v.KINDS.items()}))
        lines.append(counts_line(t, t.tr("By tier"), dict(s.by_tier),
                                 {k: t.tr(label) for k, label in v.TIERS.items()}))
        lines.append(counts_line(t, t.tr("By state or country"), dict(s.by_state),
                                 {k: region_name(t, k) for k in s.by_state}))
    if s.strangers:
        lines.append(t.tr("Presses by people who answer for no reached organisation (not counted "
                          "above): {n}", n=t.number(s.strangers)))
    if s.silent:
        lines += ["", t.tr("<b>Not answered yet: {n}</b>", n=t.number(len(s.silent)))]
        for org in s.silent[:MAX_SILENT]:
            name = shown_name(org, coordinator_view=True)
            lines.append(t.tr("• {name}", name=name) + (
                " " + t.tr("(low profile)") if org.low_profile else "") if name else "•")
        if len(s.silent) > MAX_SILENT:
            lines.append(t.tr("…and {n} more", n=t.number(len(s.silent) - MAX_SILENT)))
    return "\n".join(lines)


async def viewing_here(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Here | None:
    """A coordinator (the route says so) where the follow-up may be shown."""
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if not view_allowed(where):
        await query.answer(private_view(where.t), show_alert=True)
        return None
    return where


async def show_status(update: Update, where: Here, alert_id: int) -> bool:
    async with where.rt.db.reader() as session:
        found = await alerts.status(session, alert_id)
    if found is None:
        return False
    t = where.t
    rows = []
    if found.alert.asks and found.silent and found.nudge is None \
            and found.alert.withdrawn_at is None:
        rows.append([InlineKeyboardButton(t.tr("Remind those who have not answered"),
                                          callback_data=encode(AlertNudgePress(alert_id)))])
    rows += follow_through_buttons(t, found.alert)
    rows.append([InlineKeyboardButton(t.tr("Refresh"),
                                      callback_data=encode(AlertStatusPress(alert_id)))])
    markup = InlineKeyboardMarkup(rows)
    await reply(update, where, lambda t: status_text(t, found), markup=markup)
    return True


@on(AlertStatusPress, owner=Owner.DATA, who=Who.COORDINATOR)
async def status_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        pressed: AlertStatusPress) -> None:
    where = await viewing_here(update, context)
    if where is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    if not await show_status(update, where, pressed.alert):
        await reply(update, where, lambda t: t.tr("I do not know this alert."))


@on(AlertNudgePress, owner=Owner.DATA, who=Who.COORDINATOR)
async def nudge_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                       pressed: AlertNudgePress) -> None:
    where = await viewing_here(update, context)
    if where is None:
        return
    query = update.callback_query
    assert query is not None
    async with where.rt.db.transaction() as session:
        done = await alerts.nudge(session, pressed.alert, where.rt.clock.now(),
                                  nudge_copy(where.rt.settings.timezone),
                                  report_chat_id=where.chat_id)
    if done is None:
        await query.answer(where.t.tr("This button is no longer valid."))
        return
    if not done.first:
        await query.answer(where.t.tr("The reminder was already sent."))
        return
    where.rt.wake_sender()
    log.info("alerts.nudged alert=%d chats=%d", pressed.alert, done.chats)
    await query.answer(where.t.tr("Sending the reminder."))
    await reply(update, where, lambda t: t.tr(
        "Reminding {orgs}, in {chats}.",
        orgs=silent_orgs(t, done.orgs),
        chats=counts.chats(t, done.chats)))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("alerts", alerts_command))

"""/digest (the digest now) and /digest_settings (daily, weekly or off, and the hour), and the
scheduled digests themselves (issue 11).

Rule R for the settings: in a group its admins or the organisation's contacts, in private the
person (handlers/shared/common.py `may_change_chat_settings`). The digest rows are scheduled
work (rule S): `task_kinds` gives the app the member digest, the coordinators' digest and the
hourly planner.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import dates, i18n
from bot.db import Session
from bot.delivery import outbox
from bot.i18n import Text
from bot.runtime import Runtime
from bot.scheduler import Due, TaskKind, schedule
from bot.services.digests import digests
from bot.services.membership import members_view
from bot.services.shared import chats
from bot.services.shared.roles import Role
from handlers.digests import render
from handlers.polls import chart
from handlers.shared.buttons import Owner, on
from handlers.shared.callback_data import action, encode
from handlers.shared.common import Here, anonymous_refusal, here, may_change_chat_settings, reply
from handlers.shared.pressed import redraw

log = logging.getLogger(__name__)
HOURS = (6, 7, 8, 9, 10, 12, 14, 16, 18, 20)


@action("dgs")
@dataclasses.dataclass(frozen=True)
class DigestSet:
    """A digest setting for the chat the button is in: frequency (d/w/o) or hour."""

    what: str
    hour: int = 0

    def valid(self) -> bool:
        return self.what in ("d", "w", "o", "h") and 0 <= self.hour <= 23


FREQ = {"d": "daily", "w": "weekly", "o": "off"}
FREQ_LABEL = {"daily": i18n.N_("Daily"), "weekly": i18n.N_("Weekly (Mondays)"),
              "off": i18n.N_("Off")}


# -- /digest --------------------------------------------------------------------------------------

async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    now = where.rt.clock.now()
    async with where.rt.db.reader() as session:
        if where.private and where.role is Role.COORDINATOR:
            setting = await digests.schedule_of(session, digests.COORDINATORS)
            since = setting.covered_until or now - digests.period(setting.frequency)
            found = await digests.coordinator_digest(session, since, now)
            await reply(update, where, render.coordinator_text(found))  # type: ignore[arg-type]
            return
        org_id = await digests.org_of_chat(session, where.chat_id)
        if org_id is None:
            await reply(update, where, lambda t: t.tr(
                "Digests go to the member chats of active organisations, and to their contacts "
                "when the organisation has no group. This chat gets none."))
            return
        setting = await digests.schedule_of(session, where.chat_id)
        since = setting.covered_until or now - digests.period(setting.frequency)
        found_member = await digests.member_digest(session, org_id, since, now)
    await reply(update, where, render.member_text(found_member))  # type: ignore[arg-type]


# -- /digest_settings -----------------------------------------------------------------------------

def _settings_view(where: Here, setting: digests.Schedule) -> tuple[object, InlineKeyboardMarkup]:
    def build(t: Text) -> str:
        if setting.frequency == "off":
            return t.tr("Digests for this chat: <b>off</b>.")
        return t.tr("Digests for this chat: <b>{how}</b> at {hour}:00 ({zone}).",
                    how=t.gettext(FREQ_LABEL[setting.frequency]).lower(), hour=setting.hour,
                    zone=dates.zone_name(where.timezone, t.lang))

    def button(label: str, data: DigestSet, chosen: bool) -> InlineKeyboardButton:
        return InlineKeyboardButton(("✅ " if chosen else "") + label, callback_data=encode(data))

    rows = [[button(where.label(lambda t, f=f: t.tr(FREQ_LABEL[f])), DigestSet(code),
                    setting.frequency == f) for code, f in FREQ.items()]]
    if setting.frequency != "off":
        hours = [button(f"{h}:00", DigestSet("h", h), setting.hour == h) for h in HOURS]
        rows += [hours[:5], hours[5:]]
    return build, InlineKeyboardMarkup(rows)


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = await here(update, context)
    if where.anonymous:
        await reply(update, where, anonymous_refusal)
        return
    if not await may_change_chat_settings(update, context, where):
        await reply(update, where, lambda t: t.tr(
            "Only the group's admins or the organisation's contacts can change this group's "
            "digest."))
        return
    async with where.rt.db.reader() as session:
        setting = await digests.schedule_of(session, where.chat_id)
    build, markup = _settings_view(where, setting)
    await reply(update, where, build, markup=markup)  # type: ignore[arg-type]


@on(DigestSet, owner=Owner.ITS_MESSAGE)
async def settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          pressed: DigestSet) -> None:
    where = await here(update, context)
    query = update.callback_query
    assert query is not None
    if where.anonymous or not await may_change_chat_settings(update, context, where):
        log.info("digests.settings_refused")
        await query.answer(where.t.tr("Only the group's admins or the organisation's contacts can "
                                      "change this group's digest."), show_alert=True)
        return
    now = where.rt.clock.now()
    async with where.rt.db.transaction() as session:
        setting = await digests.change(
            session, where.chat_id, now, where.timezone,
            frequency=FREQ.get(pressed.what), hour=pressed.hour if pressed.what == "h" else None)
    log.info("digests.settings_changed")
    await query.answer(where.t.tr("Saved."))
    build, markup = _settings_view(where, setting)
    await redraw(query, where.text(build), reply_markup=markup)  # type: ignore[arg-type]


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("digest", digest_command))
    application.add_handler(CommandHandler("digest_settings", settings_command))


# -- the scheduled digests ------------------------------------------------------------------------

async def _chat_context(session: Session, chat_id: int, default_language: str,
                        default_zone: str) -> tuple[str, str]:
    """The chat's language choice (a private chat: its person's) and time zone."""
    languages, zones = await chats.languages_and_zones(session, [chat_id])
    return languages.get(chat_id, default_language), zones.get(chat_id, default_zone)


def chat_kind(rt: Runtime) -> TaskKind:
    async def run(due: Due) -> None:
        chat_id = int(due.payload["chat"])
        settings = rt.settings
        async with rt.db.transaction() as session:
            language, zone = await _chat_context(session, chat_id, settings.default_language,
                                                 settings.timezone)
            if not await digests.still_current(session, chat_id, due.due_at, zone):
                return  # the schedule changed since: `change` scheduled the new one
            org_id = await digests.org_of_chat(session, chat_id)
            if org_id is None:
                return  # no longer a member chat: no digest, no next
            since = await digests.covered(session, chat_id, due.now)
            found = await digests.member_digest(session, org_id, since, due.now)
            text = i18n.render(language, zone, render.member_text(found))  # type: ignore[arg-type]
            await outbox.enqueue(session, f"digest:{chat_id}:{due.due_at:%Y%m%d%H%M}", "digest",
                                 [outbox.Outgoing(chat_id, text=text)], due.now)
            await digests.schedule_next(session, chat_id, due.now, zone)
        rt.wake_sender()
        log.info("digests.sent kind=member late_s=%d", int(due.lateness.total_seconds()))

    # Found late, a digest still runs, once, covering the whole gap (it reads covered_until).
    return TaskKind(digests.CHAT_KIND, run)


def coordinators_kind(rt: Runtime) -> TaskKind:
    async def run(due: Due) -> None:
        settings = rt.settings
        zone = settings.timezone
        async with rt.db.transaction() as session:
            if not await digests.still_current(session, digests.COORDINATORS, due.due_at, zone):
                return
            since = await digests.covered(session, digests.COORDINATORS, due.now)
            found = await digests.coordinator_digest(session, since, due.now)
            recipients = await members_view.coordination_recipients(
                session, settings.coordinator_ids, settings.coordination_chat_id)
            texts, photos, charts = [], [], {}
            for recipient in recipients:
                lang = recipient.language or settings.default_language
                texts.append(outbox.Outgoing(recipient.chat_id, text=i18n.render(
                    lang, zone, render.coordinator_text(found))))  # type: ignore[arg-type]
                first = "es" if lang == "both" else lang
                if first not in charts:
                    t = Text(first, zone)
                    labels, values = render.rate_chart_labels(t, found)
                    axis = t.tr("Organisations reached that answered (percent)")
                    charts[first] = base64.b64encode(chart.draw(
                        t.tr("Answer rate per week"), labels, values, axis).png).decode()
                t = Text(first, zone)
                photos.append(outbox.Outgoing(recipient.chat_id, photo={
                    "content_b64": charts[first]}, caption=t.tr("Answer rate to alerts, per week")))
            stamp = f"{due.due_at:%Y%m%d%H%M}"
            await outbox.enqueue(session, f"digest-coord:{stamp}", "digest", texts, due.now)
            await outbox.enqueue(session, f"digest-coord-chart:{stamp}", "digest", photos,
                                 due.now)
            await digests.schedule_next(session, digests.COORDINATORS, due.now, zone)
        rt.wake_sender()
        log.info("digests.sent kind=coordinators recipients=%d", len(recipients))

    return TaskKind(digests.COORDINATORS_KIND, run)


def _next_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


async def ensure_planned(rt: Runtime) -> None:
    """At start: plan now (a restart or a first start), and keep the hourly planner row."""
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        await _plan(session, rt, now)
        due = _next_hour(now)
        await schedule(session, digests.PLAN_KIND, due, dedupe_key=f"digest.plan:{due:%Y%m%d%H}")


async def _plan(session: Session, rt: Runtime, now: datetime) -> int:
    recipients = await digests.member_recipients(session)
    zones = {}
    for recipient in recipients:
        zone = (await chats.chat_settings(session, recipient.chat_id)).timezone
        if zone:
            zones[recipient.chat_id] = zone
    return await digests.plan(session, now, zones, rt.settings.timezone)


def plan_kind(rt: Runtime) -> TaskKind:
    async def run(due: Due) -> None:
        # From the previous planning on: a chat that became a member chat since then gets the
        # slot it would have had, even when the clock (or a restart) jumped past it.
        since = min(due.now, due.due_at) - timedelta(hours=1)
        async with rt.db.transaction() as session:
            added = await _plan(session, rt, since)
            nxt = _next_hour(due.now)
            await schedule(session, digests.PLAN_KIND, nxt,
                           dedupe_key=f"digest.plan:{nxt:%Y%m%d%H}")
        log.info("digests.planned added=%d", added)

    return TaskKind(digests.PLAN_KIND, run)


def task_kinds(rt: Runtime) -> list[TaskKind]:
    return [chat_kind(rt), coordinators_kind(rt), plan_kind(rt)]

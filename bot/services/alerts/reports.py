"""Reports raised by members (/report): a contact's local warning, for coordinators to turn into
an alert or dismiss with a reason (issue 7).

Sessions in, data out. A decision is a conditional update (`WHERE status = 'open'`), so two
coordinators pressing at once, or a replayed update, decide once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Alert, Organisation, OutboxRow, Report
from bot.db.states import AlertStatus
from bot.services.alerts import alerts
from bot.services.membership import membership
from bot.services.safety.erasure_hooks import on_erase_org, on_forget_person, on_retention

MAX_TEXT = 3500
NO_STATE = "-"


async def reporter(session: AsyncSession, user_id: int) -> Organisation | None:
    """The active organisation the person speaks for: only its contacts may report."""
    org = await membership.org_of(session, user_id)
    return org if org is not None and org.status == "active" else None


def clean_text(text: str) -> str | None:
    value = text.strip()
    if not value or value.startswith("/") or len(value) > MAX_TEXT:
        return None
    return value


async def create(session: AsyncSession, org_id: int, user_id: int, text: str, now: datetime, *,
                 link: str | None, file_id: str | None, file_name: str | None,
                 state: str | None, language: str) -> Report:
    report = Report(org_id=org_id, reporter_id=user_id, text=text, link=link, file_id=file_id,
                    file_name=file_name, state=state, language=language, status="open",
                    created_at=now)
    session.add(report)
    await session.flush()
    return report


async def get(session: AsyncSession, report_id: int) -> Report | None:
    return await session.get(Report, report_id)


async def set_fanout(session: AsyncSession, report_id: int, fanout_id: int) -> None:
    await session.execute(update(Report).where(Report.id == report_id)
                          .values(fanout_id=fanout_id))


def title_of(report: Report) -> str:
    first = " ".join(report.text.strip().splitlines()[0].split()) if report.text.strip() else ""
    return first[:alerts.MAX_TITLE - 1] + "…" if len(first) > alerts.MAX_TITLE else first


async def draft_alert(session: AsyncSession, report_id: int, coordinator: int,
                      now: datetime) -> Alert | None:
    """The coordinator's draft alert made from the report (title, text in the reporter's
    language, link, state); the same draft again on a second press. None if dismissed."""
    report = await session.get(Report, report_id)
    if report is None or report.status == "dismissed":
        return None
    existing = (await session.execute(
        Alert.__table__.select().where(Alert.report_id == report_id,
                                       Alert.composed_by == coordinator,
                                       Alert.status == AlertStatus.DRAFT))).first()
    if existing is not None:
        return await session.get(Alert, existing.id)
    body = report.text
    alert = await alerts.new_draft(
        session, coordinator, now, title=title_of(report) or "…",
        body_es=body if report.language != "en" else None,
        body_en=body if report.language == "en" else None,
        regions=[report.state] if report.state and report.state != NO_STATE else [],
        report_id=report_id)
    alert.link = report.link
    await session.execute(update(Report).where(Report.id == report_id, Report.status == "open")
                          .values(status="drafted", decided_by=coordinator, decided_at=now))
    return alert


async def dismiss(session: AsyncSession, report_id: int, coordinator: int, reason: str,
                  now: datetime) -> Report | None:
    """Dismiss an open report with the reason the reporter will read; None if already decided."""
    result = await session.execute(
        update(Report).where(Report.id == report_id, Report.status == "open")
        .values(status="dismissed", decided_by=coordinator, decided_at=now,
                reason=reason[:500]))
    if not result.rowcount:
        return None
    return await session.get(Report, report_id)


# -- erasure and retention (rule Q) ---------------------------------------------------------------

@on_forget_person
async def forget_person(session: AsyncSession, user_id: int, now: datetime) -> None:
    """A person's reports are their own words: they go with them."""
    await session.execute(delete(Report).where(Report.reporter_id == user_id))
    await session.execute(update(Report).where(Report.decided_by == user_id)
                          .values(decided_by=None))


@on_erase_org
async def erase_org(session: AsyncSession, org_id: int, now: datetime) -> None:
    """The organisation's reports are its words: they go, and so do the drafts made from them
    (a coordinator's unsent copy of those words) and the copies coordinators were sent (the
    rows; the messages in the coordinators' chats are theirs). An alert already sent from a
    report is the coalition's and stays, no longer pointing at the report."""
    own = select(Report.id).where(Report.org_id == org_id)
    fanouts = select(Report.fanout_id).where(Report.org_id == org_id,
                                             Report.fanout_id.is_not(None))
    await session.execute(delete(Alert).where(Alert.report_id.in_(own),
                                              Alert.status == AlertStatus.DRAFT))
    await session.execute(update(Alert).where(Alert.report_id.in_(own)).values(report_id=None))
    await session.execute(delete(OutboxRow).where(OutboxRow.fanout_id.in_(fanouts)))
    await session.execute(delete(Report).where(Report.org_id == org_id))


@on_retention
async def purge_old(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(delete(Report).where(Report.created_at < cutoff))
    return int(result.rowcount or 0)

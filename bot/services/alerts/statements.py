"""Sign-on statements (issue 8): an alert may carry a statement (in one or both languages), a
signing deadline and a minimum number of signatures. *We sign on* then asks, in the presser's
private chat, for the name to sign under and a confirmation; each organisation signs once, and
only its contacts may sign (rule A). Coordinators get the signatories as a CSV and, once the
minimum is reached, a text ready to publish in both languages in which low-profile organisations
are counted but never named (rule Q, `visibility.py`).

A signature also records the organisation's answer *sign_on* (rule A's latest answer), so the
status, the nudge and the escalation count it as answered. No Telegram here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Alert, AlertAnswer, AlertSignature, AlertTarget, Contact, Organisation
from bot.db.states import AlertStatus
from bot.db.upsert import insert_ignore
from bot.numbers import whole_number
from bot.services.safety.erasure_hooks import on_erase_org, on_forget_person, on_retention
from bot.services.shared.roles import ANONYMOUS_ADMIN_ID
from bot.services.shared.spreadsheet import csv_file

MAX_NAME = 200
MAX_MINIMUM = 1000


def has_statement(alert: Alert) -> bool:
    return bool((alert.statement_es or alert.statement_en) and "sign_on" in (alert.asks or []))


def clean_name(text: str) -> str | None:
    name = " ".join(text.split())
    if not name or name.startswith("/") or len(name) > MAX_NAME:
        return None
    return name


def parse_minimum(text: str) -> int | None:
    raw = text.strip()
    number = whole_number(raw, max_digits=6)
    if number is None or not 1 <= number <= MAX_MINIMUM:
        return None
    return number


class Can(StrEnum):
    SIGN = "sign"              # a contact of a reached organisation that has not signed
    SIGNED = "signed"          # the organisation already signed
    NEEDS_CONTACT = "needs_contact"
    NOT_REACHED = "not_reached"
    CLOSED = "closed"          # past the signing deadline, or withdrawn
    INVALID = "invalid"


@dataclass(frozen=True)
class Check:
    can: Can
    org_id: int | None = None
    org_name: str | None = None
    signed_as: str | None = None


async def check(session: AsyncSession, alert_id: int, user_id: int, now: datetime) -> Check:
    """Whether this person may sign this alert's statement now, and for which organisation.

    Only a contact signs (whatever chat the button was pressed in): the organisation is the
    presser's own, never the chat's."""
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.status != AlertStatus.SENT or not has_statement(alert):
        return Check(Can.INVALID)
    if alert.withdrawn_at is not None or (alert.sign_deadline is not None
                                          and now >= alert.sign_deadline):
        return Check(Can.CLOSED)
    if user_id == ANONYMOUS_ADMIN_ID:
        return Check(Can.NEEDS_CONTACT)
    row = (await session.execute(
        select(Organisation.id, Organisation.name).join(Contact, Contact.org_id == Organisation.id)
        .where(Contact.user_id == user_id, Organisation.status == "active"))).first()
    if row is None:
        return Check(Can.NEEDS_CONTACT)
    org_id, name = int(row[0]), str(row[1])
    reached = (await session.execute(select(AlertTarget.org_id).where(
        AlertTarget.alert_id == alert_id, AlertTarget.org_id == org_id).limit(1))).scalar()
    if reached is None:
        return Check(Can.NOT_REACHED, org_id, name)
    signed = await session.get(AlertSignature, (alert_id, org_id))
    if signed is not None:
        return Check(Can.SIGNED, org_id, name, signed.name)
    return Check(Can.SIGN, org_id, name)


async def sign(session: AsyncSession, alert_id: int, user_id: int, name: str,
               now: datetime) -> Check:
    """Sign for the person's organisation, once: a second signature (another contact, a double
    tap, a replayed update) changes nothing and says who signed first."""
    found = await check(session, alert_id, user_id, now)
    if found.can is not Can.SIGN or found.org_id is None:
        return found
    result = await session.execute(insert_ignore(session, AlertSignature).values(
        alert_id=alert_id, org_id=found.org_id, name=name[:MAX_NAME], signer_id=user_id,
        signed_at=now))
    if not result.rowcount:
        return await check(session, alert_id, user_id, now)
    existing = await session.get(AlertAnswer, (alert_id, found.org_id))
    if existing is None:
        await session.execute(insert_ignore(session, AlertAnswer).values(
            alert_id=alert_id, org_id=found.org_id, answer="sign_on", answered_by=user_id,
            answered_at=now))
    else:
        existing.answer, existing.capacity = "sign_on", None
        existing.answered_by, existing.answered_at = user_id, now
    return Check(Can.SIGN, found.org_id, found.org_name, name)


@dataclass(frozen=True)
class Signatory:
    org_id: int
    org_name: str
    signed_as: str
    low_profile: bool
    signed_at: datetime


@dataclass(frozen=True)
class Signatures:
    alert: Alert
    signatories: list[Signatory]
    minimum: int

    @property
    def ready(self) -> bool:
        return len(self.signatories) >= self.minimum

    @property
    def named(self) -> list[str]:
        """The names a published statement shows: never a low-profile organisation's."""
        return sorted((s.signed_as for s in self.signatories if not s.low_profile),
                      key=str.casefold)

    @property
    def unnamed(self) -> int:
        return sum(1 for s in self.signatories if s.low_profile)


async def signatures(session: AsyncSession, alert_id: int) -> Signatures | None:
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.status != AlertStatus.SENT or not has_statement(alert):
        return None
    rows = (await session.execute(
        select(AlertSignature.org_id, Organisation.name, AlertSignature.name,
               Organisation.low_profile, AlertSignature.signed_at)
        .join(Organisation, Organisation.id == AlertSignature.org_id)
        .where(AlertSignature.alert_id == alert_id)
        .order_by(AlertSignature.signed_at, AlertSignature.org_id))).all()
    return Signatures(alert, [Signatory(int(o), str(n), str(s), bool(low), at)
                              for o, n, s, low, at in rows], int(alert.min_signatures or 1))


def csv_bytes(found: Signatures) -> bytes:
    """The coordinators' list: every signatory, low-profile ones marked (their view)."""
    return csv_file(["org_id", "organisation", "signed_as", "low_profile", "signed_at_utc"],
                    ([s.org_id, s.org_name, s.signed_as, "yes" if s.low_profile else "no",
                      s.signed_at.strftime("%Y-%m-%d %H:%M")] for s in found.signatories))


# -- erasure and retention (rule Q) ---------------------------------------------------------------

@on_forget_person
async def forget_person(session: AsyncSession, user_id: int, now: datetime) -> None:
    """The signature stays the organisation's; who signed it goes."""
    await session.execute(update(AlertSignature).where(AlertSignature.signer_id == user_id)
                          .values(signer_id=None))


@on_erase_org
async def erase_org(session: AsyncSession, org_id: int, now: datetime) -> None:
    await session.execute(delete(AlertSignature).where(AlertSignature.org_id == org_id))


@on_retention
async def purge_old(session: AsyncSession, cutoff: datetime) -> int:
    return int((await session.execute(
        update(AlertSignature).where(AlertSignature.signed_at < cutoff,
                                     AlertSignature.signer_id.is_not(None))
        .values(signer_id=None))).rowcount or 0)

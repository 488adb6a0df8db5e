"""Digests (issue 11): the clock moves through weeks and a month boundary in two time zones;
each chat gets its digest at its own local hour, once; a digest found late covers the gap.

The clock starts at a fixed moment, whatever today is: Saturday 20 March 2027, 18:00 UTC (12:00
in Mexico City, 19:00 in Madrid), so five Mondays run from March into April, and the daily
schedules, started a week later, cross from March into April too; both across the night Madrid
moves to summer time (28 March; Mexico City keeps its time), so the local hour is the local one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot.db.models import (
    Action,
    ActionRsvp,
    ActionTarget,
    Alert,
    AlertAnswer,
    AlertTarget,
    Organisation,
    Poll,
    PollCopy,
)
from bot.emulator import Emulator
from bot.services.membership import membership
from tests.org_helpers import ask, make_org

MEXICO, MADRID = "America/Mexico_City", "Europe/Madrid"
CLOCK_START = datetime(2027, 3, 20, 18, 0, tzinfo=UTC)  # a Saturday
DAILY_FROM = datetime(2027, 3, 27, 18, 0, tzinfo=UTC)  # the next Saturday, four days to April


@pytest.fixture
def clock_start() -> datetime:
    return CLOCK_START


@pytest.fixture(autouse=True)
def fast_clock(emu: Emulator) -> None:
    emu.clock.scale = 3.0


def now_of(emu: Emulator) -> datetime:
    return datetime.fromtimestamp(emu.clock.now(), UTC)


def next_local(emu: Emulator, zone: str, hour: int, weekday: int | None = None) -> datetime:
    """The next `hour`:00 in `zone` (on `weekday`, 0 = Monday), as UTC."""
    local = now_of(emu).astimezone(ZoneInfo(zone))
    for days in range(0, 9):
        day = (local + timedelta(days=days)).date()
        if weekday is not None and day.weekday() != weekday:
            continue
        candidate = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone))
        if candidate > local:
            return candidate.astimezone(UTC)
    raise AssertionError


def digests_in(emu: Emulator, chat, marker: str) -> list:
    return [m for m in emu.bot_messages(chat) if marker in (m.text or "")]


async def move_to(emu: Emulator, when: datetime) -> None:
    emu.clock.advance((when - now_of(emu)).total_seconds())


def local_hour(message, zone: str) -> int:
    return datetime.fromtimestamp(message.date, UTC).astimezone(ZoneInfo(zone)).hour


def local_day(message, zone: str) -> date:
    return datetime.fromtimestamp(message.date, UTC).astimezone(ZoneInfo(zone)).date()


async def world(emu: Emulator, make_bot):
    """Coco coordinates; Ana's org has a group (Mexico City); Bob's org has no group, so its
    digest goes to Bob in private (English, Madrid)."""
    coco = emu.add_user("Coco", language_code="es")
    ana = emu.add_user("Ana", language_code="es")
    bob = emu.add_user("Bob", language_code="en")
    service = await make_bot(coordinator_ids=(coco.id,))
    for person in (coco, ana, bob):
        await ask(emu, person, "/start")
    org_a = await make_org(service, ana.id, "Red Jalisco", coordinator=coco.id)
    org_b = await make_org(service, bob.id, "Bob's Network", coordinator=coco.id,
                           language="en")
    grp = emu.add_group("Red Jalisco", members=[ana], admins=[ana])
    emu.add_bot(grp, by=ana)
    await ask(emu, ana, "/link", chat=grp)
    await ask(emu, bob, f"/timezone {MADRID}")
    return service, coco, ana, bob, grp, org_a, org_b


async def content(service, org_a: int, org_b: int, grp_id: int, bob_id: int) -> None:
    """An alert both orgs got (only A answered), a poll open for both, an action in 3 days."""
    now = service.clock.now()
    async with service.db.transaction() as session:
        alert = Alert(title="Reforma <fiscal>", severity="urgent", status="sent", sent_at=now,
                      created_at=now, updated_at=now, topics=[], regions=[], kinds=[],
                      asks=["acknowledge"], audience="all", strangers_erased=0)
        session.add(alert)
        poll = Poll(question="¿Prioridad?", options=["A", "B"], kind="single", counting="org",
                    allies_count=False, audience={}, status="open", created_at=now,
                    closes_at=now + timedelta(days=30), reached_orgs=2)
        action = Action(title="Audiencia en el Congreso", kind="hearing",
                        starts_at=now + timedelta(days=10), timezone=MEXICO, topics=[],
                        regions=[], audience="all", kinds=[], offsets=[], status="scheduled",
                        version=1, created_at=now, updated_at=now, strangers_erased=0)
        session.add_all([poll, action])
        await session.flush()
        session.add_all([
            AlertTarget(alert_id=alert.id, chat_id=grp_id, org_id=org_a, language="es"),
            AlertTarget(alert_id=alert.id, chat_id=bob_id, org_id=org_b, language="en"),
            AlertAnswer(alert_id=alert.id, org_id=org_a, answer="acknowledge",
                        answered_at=now),
            PollCopy(poll_id=poll.id, chat_id=grp_id, org_id=org_a, private=False, token="t1"),
            PollCopy(poll_id=poll.id, chat_id=bob_id, org_id=org_b, private=True, token="t2"),
            ActionTarget(action_id=action.id, chat_id=grp_id, org_id=org_a),
            ActionTarget(action_id=action.id, chat_id=bob_id, org_id=org_b),
            ActionRsvp(action_id=action.id, org_id=org_a, answer="going", answered_at=now),
        ])


async def test_weekly_digests_in_two_time_zones_with_the_right_content(emu: Emulator,
                                                                      make_bot) -> None:
    service, coco, _, bob, grp, org_a, org_b = await world(emu, make_bot)
    await content(service, org_a, org_b, grp.id, bob.id)
    bob_chat = emu.private_chat(bob)
    # Monday 09:00 in Madrid comes first, then Monday 09:00 in Mexico City.
    await move_to(emu, next_local(emu, MADRID, 9, weekday=0) + timedelta(minutes=1))
    [bobs] = await emu.wait_for(lambda: digests_in(emu, bob_chat, "Coalition digest"),
                                what="Bob's digest")
    assert local_hour(bobs, MADRID) == 9
    assert digests_in(emu, grp, "Resumen de la coalición") == []
    assert "Reforma <fiscal> (" in bobs.text and "not answered yet" in bobs.text
    assert "¿Prioridad?" in bobs.text and "Audiencia en el Congreso" in bobs.text
    assert "Your answer: no answer yet" in bobs.text
    assert "&lt;fiscal&gt;" in bobs.html
    await move_to(emu, next_local(emu, MEXICO, 9, weekday=0) + timedelta(minutes=1))
    [group] = await emu.wait_for(lambda: digests_in(emu, grp, "Resumen de la coalición"),
                                 what="the group's digest")
    assert local_hour(group, MEXICO) == 9
    assert "respondieron: Recibido" in group.text
    assert "Su respuesta: Vamos" in group.text
    # The coordinators' digest (Monday 09:00 in the coalition's time zone), with its chart.
    coord = await emu.wait_for(lambda: next((m for m in emu.bot_messages(emu.private_chat(coco))
                                             if "Resumen de la coordinación" in (m.text or "")),
                                            None), what="the coordinators' digest")
    assert "Alertas urgentes sin responder" in coord.text and "Reforma <fiscal>: 1" in coord.text
    await emu.wait_for(lambda: any(m.photo for m in emu.bot_messages(emu.private_chat(coco))),
                       what="the answer-rate chart")
    # A week later: one more each, covering only the week since.
    await move_to(emu, next_local(emu, MEXICO, 9, weekday=0) + timedelta(minutes=1))
    await emu.wait_for(lambda: len(digests_in(emu, grp, "Resumen de la coalición")) == 2,
                       what="the second weekly digest")
    second = digests_in(emu, grp, "Resumen de la coalición")[1]
    assert "No hay alertas nuevas." in second.text
    assert len(digests_in(emu, bob_chat, "Coalition digest")) == 2


async def test_weekly_across_a_month_boundary_in_two_time_zones(emu: Emulator,
                                                               make_bot) -> None:
    _, _, ana, bob, grp, *_ = await world(emu, make_bot)
    menu = await ask(emu, ana, "/digest_settings", chat=grp)
    assert "semanal" in menu.text
    emu.press(ana, menu, label="8:00")  # weekly, at 8:00 in Mexico City; Bob keeps 9:00 in Madrid
    await emu.wait_for(lambda: "semanal (los lunes) a las 8:00" in emu.message(menu).text,
                       what="weekly at 8:00")
    bob_chat = emu.private_chat(bob)
    for week in range(1, 6):
        # Madrid's Monday 09:00 comes first: the group's digest has not come yet.
        await move_to(emu, next_local(emu, MADRID, 9, weekday=0) + timedelta(minutes=5))
        await emu.wait_for(lambda week=week: len(digests_in(
            emu, bob_chat, "Coalition digest")) == week, what=f"Bob's weekly digest {week}")
        assert len(digests_in(emu, grp, "Resumen de la coalición")) == week - 1
        await move_to(emu, next_local(emu, MEXICO, 8, weekday=0) + timedelta(minutes=5))
        await emu.wait_for(lambda week=week: len(digests_in(
            emu, grp, "Resumen de la coalición")) == week, what=f"weekly digest {week}")
    await ask(emu, ana, "/help", chat=grp)  # something to wait on: the bot has kept up
    mondays = [date(2027, 3, 22) + timedelta(weeks=n) for n in range(5)]  # 22 March - 19 April
    sent = digests_in(emu, grp, "Resumen de la coalición")
    assert [(local_day(m, MEXICO), local_hour(m, MEXICO)) for m in sent] == [
        (day, 8) for day in mondays], [m.date for m in sent]
    bobs = digests_in(emu, bob_chat, "Coalition digest")
    assert [(local_day(m, MADRID), local_hour(m, MADRID)) for m in bobs] == [
        (day, 9) for day in mondays], [m.date for m in bobs]


async def test_daily_across_a_month_boundary_off_and_on(emu: Emulator, make_bot) -> None:
    await move_to(emu, DAILY_FROM)
    _, _, ana, bob, grp, *_ = await world(emu, make_bot)
    menu = await ask(emu, ana, "/digest_settings", chat=grp)
    assert "semanal" in menu.text
    emu.press(ana, menu, label="Diario")
    await emu.wait_for(lambda: "diario" in emu.message(menu).text, what="daily")
    emu.press(ana, emu.message(menu), label="8:00")
    await emu.wait_for(lambda: "8:00" in emu.message(menu).text.split("(")[0],
                       what="at 8:00")
    bob_menu = await ask(emu, bob, "/digest_settings")
    emu.press(bob, bob_menu, label="Daily")
    await emu.wait_for(lambda: "daily" in emu.message(bob_menu).text, what="Bob daily")
    # Eight days from here cross into April, and Madrid into summer time on the first night.
    bob_chat = emu.private_chat(bob)
    for day in range(1, 9):
        # Stop at each chat's own hour (Madrid's 09:00 comes before Mexico City's 08:00).
        await move_to(emu, next_local(emu, MADRID, 9) + timedelta(minutes=5))
        await emu.wait_for(lambda day=day: len(digests_in(
            emu, bob_chat, "Coalition digest")) == day, what=f"Bob's daily digest {day}")
        await move_to(emu, next_local(emu, MEXICO, 8) + timedelta(minutes=5))
        await emu.wait_for(lambda day=day: len(digests_in(
            emu, grp, "Resumen de la coalición")) == day, what=f"daily digest {day}")
    days = [date(2027, 3, 28) + timedelta(days=n) for n in range(8)]  # 28 March - 4 April
    sent = digests_in(emu, grp, "Resumen de la coalición")
    assert [(local_day(m, MEXICO), local_hour(m, MEXICO)) for m in sent] == [
        (day, 8) for day in days], [(m.date, m.text[:60]) for m in sent]
    bobs = digests_in(emu, bob_chat, "Coalition digest")
    assert [(local_day(m, MADRID), local_hour(m, MADRID)) for m in bobs] == [
        (day, 9) for day in days], [m.date for m in bobs]
    # Off for three days: nothing; on again: the next morning, one digest.
    emu.press(ana, emu.message(menu), label="Desactivado")
    await emu.wait_for(lambda: "desactivados" in emu.message(menu).text, what="off")
    before = len(digests_in(emu, grp, "Resumen de la coalición"))
    for _ in range(3):
        await move_to(emu, next_local(emu, MEXICO, 8) + timedelta(minutes=5))
    await ask(emu, ana, "/help", chat=grp)  # something to wait on: the bot has kept up
    assert len(digests_in(emu, grp, "Resumen de la coalición")) == before
    emu.press(ana, emu.message(menu), label="Diario")
    await emu.wait_for(lambda: "diario" in emu.message(menu).text, what="daily again")
    await move_to(emu, next_local(emu, MEXICO, 8) + timedelta(minutes=5))
    await emu.wait_for(lambda: len(digests_in(emu, grp, "Resumen de la coalición")) == before + 1,
                       what="digests again")


async def test_down_across_the_digest_one_digest_covers_the_gap(emu: Emulator,
                                                                make_bot) -> None:
    service, _, ana, bob, grp, org_a, org_b = await world(emu, make_bot)
    await move_to(emu, next_local(emu, MEXICO, 9, weekday=0) + timedelta(minutes=5))
    [first] = await emu.wait_for(lambda: digests_in(emu, grp, "Resumen de la coalición"),
                                 what="the first weekly digest")
    await service.stop()
    emu.clock.advance(3 * 7 * 86400)  # three Mondays pass while the bot is down
    await content_later(make_bot, emu, org_a, org_b, grp.id, bob.id)
    await emu.wait_for(lambda: len(digests_in(emu, grp, "Resumen de la coalición")) == 2,
                       what="the late digest")
    await ask(emu, ana, "/help", chat=grp)
    await ask(emu, ana, "/help", chat=grp)
    [_, late] = digests_in(emu, grp, "Resumen de la coalición")  # one, not three
    # It covers the whole gap: from the first digest's time to now.
    since = late.text.split("del ", 1)[1].split(" al ")[0]
    assert since == first.text.split(" al ")[1].split("\n")[0]
    assert "Reforma <fiscal>" in late.text


async def content_later(make_bot, emu, org_a, org_b, grp_id, bob_id) -> None:
    service = await make_bot()
    await content(service, org_a, org_b, grp_id, bob_id)


async def test_coordinators_digest_lists_the_silent(emu: Emulator, make_bot) -> None:
    service, coco, _, bob, grp, org_a, org_b = await world(emu, make_bot)
    await content(service, org_a, org_b, grp.id, bob.id)
    old = service.clock.now() - timedelta(days=40)
    async with service.db.transaction() as session:
        await session.execute(update(Organisation).values(created_at=old))
        await membership.register(session, membership.Draft(
            name="Pendiente AC", kind="cso", tier="member", scope="state", areas=["MX-OAX"],
            topics=[], capacities=[], language="es", only_contacts_answer=False),
            4_000_000_001, service.clock.now())
    answer = await ask(emu, coco, "/digest")
    assert "Resumen de la coordinación" in answer.text
    assert "Silenciosas por 30 días" in answer.text
    silent = answer.text.split("Silenciosas por 30 días")[1].split("Alertas urgentes")[0]
    assert "Bob's Network" in silent and "Red Jalisco" not in silent
    assert "Pendiente AC" in answer.text.split("Registros en espera")[1]


async def test_digest_now_and_settings_refused_to_others(emu: Emulator, make_bot) -> None:
    service, _, ana, bob, grp, org_a, org_b = await world(emu, make_bot)
    eve = emu.add_user("Eve", language_code="es")
    emu.join_group(eve, grp)
    await content(service, org_a, org_b, grp.id, bob.id)
    now = await ask(emu, ana, "/digest", chat=grp)
    assert "Resumen de la coalición" in now.text and "Reforma <fiscal>" in now.text
    refused = await ask(emu, eve, "/digest_settings", chat=grp)
    assert "Solo los administradores del grupo o los contactos" in refused.text
    menu = await ask(emu, ana, "/digest_settings", chat=grp)
    emu.press(eve, menu, label="Desactivado")
    await emu.wait_for(lambda: emu.callback_answers and "Solo" in (emu.callback_answers[-1][1]
                                                                   or ""), what="refusal")
    assert "semanal" in emu.message(menu).text
    stranger = await ask(emu, eve, "/digest")
    assert "no recibe ninguno" in stranger.text

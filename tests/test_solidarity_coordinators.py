"""What coordinators get: an urgent request with no offer escalated on the clock (a scheduled
row, rule S), a request for coordinators only, /requests with hand-computed measures, and the
pairs an alert's answers make (affected <- can help, closest first)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db.models import (
    Alert,
    AlertAnswer,
    HelpOffer,
    HelpRequest,
    Person,
    ScheduledTask,
)
from bot.emulator import Emulator
from bot.i18n import Text
from bot.services.solidarity import solidarity
from handlers.solidarity import render as sr
from tests.alert_helpers import add_org
from tests.helpers import eventually
from tests.org_helpers import ask
from tests.solidarity_helpers import (
    ES,
    answered,
    ask_for_help,
    bot_text,
    capable_org,
    copy_in,
    last_request,
    sent_to,
    texts,
)


async def coordinator(emu: Emulator, make_bot, lang: str = "en"):
    coord = emu.add_user("Coord", language_code=lang)
    bot = await make_bot(coordinator_ids=(coord.id,))
    emu.private_chat(coord).started = True
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        session.add(Person(id=coord.id, language_code=lang, reachable=True, started_at=now,
                           updated_at=now))
    return coord, bot


async def test_urgent_request_without_offer_is_escalated_on_the_clock(emu: Emulator,
                                                                      make_bot) -> None:
    coord, bot = await coordinator(emu, make_bot, "es")
    ds = ("digital-security",)
    lonely = await capable_org(emu, bot, "Sola", ds, groups=0, contact_language="es")
    helped = await capable_org(emu, bot, "Acompañada", ds, groups=0, contact_language="es")
    helper = await capable_org(emu, bot, "Cerca", ds, groups=0, contact_language="es")
    await ask_for_help(emu, lonely.contact, capacity="digital-security", urgency="urgent",
                       text="Nos atacan ahora.", visibility="named", words=ES)
    first = await last_request(bot)
    # Its call for help reaches the other capable contacts first, so that the next contact's
    # /ask flow reads its own replies, not that copy landing between two of them.
    await sent_to(bot, first)
    await ask_for_help(emu, helped.contact, capacity="digital-security", urgency="urgent",
                       text="También nos atacan.", visibility="named", words=ES)
    second = await last_request(bot)
    await sent_to(bot, second)
    helper_chat = emu.private_chat(helper.contact)
    copy = copy_in(emu, helper_chat, f"#{second.id}")
    await answered(emu, emu.press(helper.contact, copy, label=ES["help"]))
    coord_chat = emu.private_chat(coord)
    assert not any("aún no tiene ofertas" in t for t in texts(emu, coord_chat))

    emu.clock.advance(solidarity.ESCALATE_AFTER.total_seconds() - 60)
    await bot.scheduler.sweep()
    assert not any("aún no tiene ofertas" in t for t in texts(emu, coord_chat))
    emu.clock.advance(120)
    flag = await bot_text(emu, coord_chat, f"La solicitud urgente #{first.id} aún no tiene")
    assert "Sola" in flag.text and "Nos atacan ahora." in flag.text

    async def both_done() -> list[str]:
        async with bot.db.sessions() as session:
            rows = (await session.execute(select(ScheduledTask.status).where(
                ScheduledTask.kind == solidarity.ESCALATE_KIND))).scalars().all()
        return list(rows) if rows and all(s == "done" for s in rows) else []

    assert len(await eventually(both_done, what="both escalation rows done")) == 2
    assert not any(f"#{second.id} aún" in t for t in texts(emu, coord_chat))
    async with bot.db.sessions() as session:
        escalated = dict((await session.execute(
            select(HelpRequest.id, HelpRequest.escalated_at))).all())
    assert escalated[first.id] is not None and escalated[second.id] is None


async def test_coordinators_only_request(emu: Emulator, make_bot) -> None:
    coord, bot = await coordinator(emu, make_bot, "en")
    ds = ("digital-security",)
    secret = await capable_org(emu, bot, "Lambda Secreta", ds, low_profile=True,
                               contact_language="en")
    near = await capable_org(emu, bot, "Cerca", ds)
    confirm = await ask_for_help(emu, secret.contact, capacity="digital-security",
                                 urgency="routine", text="Quietly, we need an audit.",
                                 visibility="coord")
    assert "coordinators only" in confirm.text
    request = await last_request(bot)
    assert request.visibility == "coordinators" and request.fanout_id is None
    copy = await bot_text(emu, emu.private_chat(coord), "for coordinators only")
    assert "Lambda Secreta (low profile)" in copy.text and "Quietly" in copy.text
    for chat in (near.groups[0], emu.private_chat(near.contact)):
        assert not any("Quietly" in t for t in texts(emu, chat))


async def test_requests_list_and_measures(emu: Emulator, make_bot) -> None:
    coord, bot = await coordinator(emu, make_bot, "en")
    a = await add_org(emu, bot, "Alfa")
    b = await add_org(emu, bot, "Beta")
    t0 = bot.clock.now() - timedelta(days=1)
    rows = [  # capacity, state, minutes to a first offer, status, outcome
        ("legal", "MX-JAL", 10, "closed", "helped"),
        ("legal", "MX-JAL", 30, "closed", "no_help"),
        ("digital-security", None, None, "open", None),
    ]
    async with bot.db.transaction() as session:
        for i, (capacity, state, wait, status, outcome) in enumerate(rows):
            r = HelpRequest(org_id=a.id, asked_by=a.contact.id, capacity=capacity,
                            urgency="routine", text=f"need {i}", visibility="members",
                            anonymous=False, state=state, language="en", status=status,
                            outcome=outcome, created_at=t0 + timedelta(hours=i),
                            closed_at=t0 + timedelta(hours=i + 1) if outcome else None,
                            first_offer_at=(t0 + timedelta(hours=i, minutes=wait)
                                            if wait else None))
            session.add(r)
            await session.flush()
            if wait:
                session.add(HelpOffer(request_id=r.id, org_id=b.id, answer="can_help",
                                      answered_at=t0, status="answered"))
        session.add(HelpOffer(request_id=1, org_id=a.id + 100, answer="can_help",
                              answered_at=t0, status="answered"))
        session.add(HelpOffer(request_id=2, org_id=a.id + 100, answer="not_now",
                              answered_at=t0, status="answered"))
    listing = await ask(emu, coord, "/requests")
    lines = listing.text.splitlines()
    assert lines[1].startswith("#3 · open · Digital security · Routine · Alfa")
    assert "offers: 2, accepted: 0" in lines[-1] or "offers: 2" in listing.text
    measures = await emu.wait_for_bot_message(emu.private_chat(coord), after=listing)
    text = measures.text
    assert "3 requests (1 open, 0 matched, 2 closed)" in text
    assert "Median time to a first offer: 20 minutes." in text
    assert "Closed as helped: 50 % (1 of 2)." in text
    table = [" ".join(line.split()) for line in text.splitlines()]
    assert "Digital security 1 0 █████" in table
    assert "Legal advice 2 3 ██████████" in table
    assert "Jalisco 2 3 ██████████" in table
    assert "no state 1 0 █████" in table
    # the chart: requests and offers per kind of help, as a PNG
    chart = await emu.wait_for(lambda: next((m for m in emu.bot_messages(
        emu.private_chat(coord)) if m.photo is not None), None), what="the chart")
    assert chart.photo.startswith(b"\x89PNG") and "per kind of help" in (chart.caption or "")
    async with bot.db.sessions() as session:
        drawn = sr.measures_chart(Text("en"), await solidarity.measures(session))
    assert drawn is not None
    assert (drawn.labels, drawn.requests, drawn.offers) == (
        ["Legal advice", "Digital security"], [2, 1], [3, 0])
    async with bot.db.sessions() as session:  # what digests count
        assert await solidarity.counts_since(session, t0) == {"asked": 3, "matched": 0,
                                                               "helped": 1}
        assert await solidarity.counts_since(session, t0 + timedelta(minutes=90)) == {
            "asked": 1, "matched": 0, "helped": 0}


async def test_alert_pairs_closest_first(emu: Emulator, make_bot) -> None:
    coord, bot = await coordinator(emu, make_bot, "en")
    alfa = await add_org(emu, bot, "Alfa", areas=("MX-JAL",))                  # affected
    beta = await add_org(emu, bot, "Beta", areas=("MX-OAX",))                  # same scope
    cerca = await add_org(emu, bot, "Cerca", areas=("MX-JAL",), scope="local")  # same state
    nu = await add_org(emu, bot, "Nu", areas=("GT",), scope="national")       # affected
    now = bot.clock.now()
    async with bot.db.transaction() as session:
        alert = Alert(title="Reforma", severity="info", topics=[], regions=[], audience="all",
                      kinds=[], asks=["affected", "can_help"], status="sent",
                      strangers_erased=0, created_at=now, sent_at=now, updated_at=now)
        session.add(alert)
        await session.flush()
        for org, answer, capacity in ((alfa, "affected", None), (nu, "affected", None),
                                      (beta, "can_help", "legal"),
                                      (cerca, "can_help", "digital-security")):
            session.add(AlertAnswer(alert_id=alert.id, org_id=org.id, answer=answer,
                                    capacity=capacity, answered_at=now))
        alert_id = alert.id
    shown = await ask(emu, coord, f"/requests {alert_id}")
    lines = shown.text.splitlines()
    assert lines[0] == f"Alert #{alert_id}: who can help whom (closest first)"
    assert lines[1] == "Alfa ← Cerca (Digital security), Beta (Legal advice)"
    assert lines[2] == "Nu ← Beta (Legal advice), Cerca (Digital security)"

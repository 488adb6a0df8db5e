"""The /alert composer through the emulator: a 10,000-character text arrives split and whole;
Send twice sends once; Edit changes a draft before it goes; Cancel sends nothing; link and
deadline read in each chat's language and time zone."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.db.models import Alert, Fanout
from bot.emulator import Emulator
from tests.alert_helpers import (
    add_org,
    alert_copies,
    ask,
    compose,
    last_alert,
    outbox_chats,
    press,
    send,
    text_after,
)
from tests.delivery_helpers import finished
from tests.helpers import eventually


def paragraphs(n: int, start: int) -> list[str]:
    return [f"Párrafo {i:03d}: " + " ".join(["la ley obliga a registrar donantes extranjeros"] * 2)
            for i in range(start, start + n)]


def english(n: int, start: int) -> list[str]:
    return [f"Paragraph {i:03d}: " + " ".join(["the law obliges us to register foreign donors"] * 2)
            for i in range(start, start + n)]


def in_order(messages: list, expected: list[str]) -> None:
    """Every paragraph arrived once, in order, over parts Telegram accepts."""
    assert all(len(m.text) <= 4096 for m in messages)
    whole = "\n".join(m.text for m in messages)
    assert all(whole.count(p) == 1 for p in expected)
    positions = [whole.index(p) for p in expected]
    assert positions == sorted(positions)


async def test_a_ten_thousand_character_text_arrives_split_and_whole(emu: Emulator,
                                                                     make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    org = await add_org(emu, bot, "Alfa", group_language="en")
    both = await add_org(emu, bot, "Beta", group_language="both")
    es = [paragraphs(32, start) for start in (0, 32, 64)]
    en = [english(32, start) for start in (0, 32, 64)]
    parts_es, parts_en = (["\n\n".join(p) for p in side] for side in (es, en))
    assert all(len(p) < 4096 for p in parts_es + parts_en)
    preview, summary = await compose(emu, coord, title="Ley larga", es=parts_es, en=parts_en)
    body_es, body_en = "\n\n".join(parts_es), "\n\n".join(parts_en)
    assert len(body_es) >= 10_000 and len(body_en) >= 10_000
    alert = await send(emu, bot, coord, summary)
    assert (alert.body_es, alert.body_en) == (body_es, body_en)
    got = [m for m in emu.transcript(org.groups[0]) if m.from_bot]
    assert len(got) >= 3
    in_order(got, [p for side in en for p in side])  # every paragraph, once, in order
    assert "Párrafo" not in "\n".join(m.text for m in got)
    assert got[0].text.startswith("ℹ️ Alert: Information\nLey larga")
    assert [b.text for row in got[-1].buttons for b in row] == ["✅ Received"]
    assert all(not m.buttons for m in got[:-1])
    # the preview was the very same parts
    shown = [m.text for m in emu.transcript(emu.private_chat(coord))
             if m.from_bot and preview.message_id <= m.message_id < summary.message_id]
    assert shown == [m.text for m in got]
    # a chat in both languages: Spanish then English, over 20,000 characters, split and whole
    got = [m for m in emu.transcript(both.groups[0]) if m.from_bot]
    assert len(got) >= 5
    in_order(got, [p for side in (*es, *en) for p in side])
    assert got[0].text.startswith("ℹ️ Alerta: Información\nLey larga")
    assert "ℹ️ Alert: Information\nLey larga" in "\n".join(m.text for m in got)
    assert [b.text for row in got[-1].buttons for b in row] == ["✅ Recibido / ✅ Received"]
    assert all(not m.buttons for m in got[:-1])


async def test_send_twice_sends_once(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    org = await add_org(emu, bot, "Alfa")
    _, summary = await compose(emu, coord, title="Doble", es=["Una vez."])
    first = emu.press(coord, summary, label="Send")
    second = emu.press(coord, summary, label="Send")
    alert = await eventually(lambda: last_alert(bot, sent=True), what="the alert sent")
    await finished(bot, alert.fanout_id)
    await emu.wait_for(lambda: first.answered and second.answered, what="both answers")
    assert {first.answer_text, second.answer_text} == {"Sending.",
                                                      "This alert was already sent."}
    async with bot.db.sessions() as session:
        fanouts = (await session.execute(select(func.count()).select_from(Fanout)
                                         .where(Fanout.purpose == "alert"))).scalar_one()
    assert fanouts == 1
    assert len(alert_copies(emu, org.groups[0], "Una vez.")) == 1
    assert await outbox_chats(bot, alert.fanout_id) == {org.groups[0].id: "sent"}


async def test_edit_then_send_and_cancel_sends_nothing(emu: Emulator, make_bot) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    org = await add_org(emu, bot, "Alfa", group_language="en")
    chat = emu.private_chat(coord)
    _, summary = await compose(emu, coord, title="Old title", en=["Body."],
                               link="https://example.org/ley?a=1&b=2",
                               deadline="2030-01-15 18:00")
    menu = await press(emu, coord, summary, "Edit")
    question = await press(emu, coord, menu, "Title")
    assert "title" in question.text
    reply = await ask(emu, coord, "New <title>")
    summary = await text_after(emu, chat, "It will reach 1 organisation in 1 chat.",
                               reply.message_id)
    assert reply.text.startswith("ℹ️ Alert: Information\nNew <title>")
    assert "🔗 More: https://example.org/ley?a=1&b=2" in reply.text
    assert "⏰ Deadline: Tue 15 Jan 2030, 18:00 (Mexico (Mexico City) Time)" in reply.text
    alert = await send(emu, bot, coord, summary)
    [copy] = alert_copies(emu, org.groups[0], "Body.")
    assert copy.text.startswith("ℹ️ Alert: Information\nNew <title>")
    assert alert.title == "New <title>"

    _, summary = await compose(emu, coord, title="Never", en=["Nope."])
    done = await press(emu, coord, summary, "Cancel")
    assert done.text == "Cancelled. The alert was not sent."
    async with bot.db.sessions() as session:
        titles = (await session.execute(select(Alert.title))).scalars().all()
    assert titles == ["New <title>"]
    assert alert_copies(emu, org.groups[0], "Nope.") == []
    # a Send under the cancelled preview changes nothing
    q = emu.press(coord, summary, label="Send")
    await emu.wait_for(lambda: q.answered)
    assert q.answer_text == "This button is no longer valid."

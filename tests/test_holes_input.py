"""Bad input from a hostile member (issue 21, items 6, 12 and 13): a digit that is not ASCII,
forged in button data or typed after a command, gets the same reply as any other bad number and
logs no error; every CSV export guards formulas the same way and opens in Excel as UTF-8."""

from __future__ import annotations

import csv
import io

import pytest

from bot.emulator import Emulator
from tests.alert_helpers import add_org
from tests.org_helpers import ask, make_org, snapshot, started

NOT_ASCII = ("²", "٣", "①", "12³")


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_a_digit_that_is_not_ascii_is_refused_like_any_bad_number(
        emu: Emulator, make_bot, caplog: pytest.LogCaptureFixture) -> None:
    coord = emu.add_user("Coco", language_code="en")
    ana = emu.add_user("Ana", language_code="es")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord, ana)
    org = await make_org(bot, ana.id, "Red Jalisco", coordinator=coord.id)
    before = await snapshot(bot)
    for command in ("/lowprofile", "/coordinators add", "/requests"):
        expected = (await ask(emu, coord, f"{command} x")).text
        for digit in NOT_ASCII:
            got = await ask(emu, coord, f"{command} {digit}")
            assert got.text == expected, (command, digit)
    # A forged button whose number is not ASCII is a button the bot does not know.
    for digit in NOT_ASCII:
        for user in (coord, ana):
            q = emu.forge_callback(user, emu.private_chat(user), 1, f"v1:lp:{digit}:off:0")
            await emu.wait_for(lambda q=q: q.answered, what="the forged press answered")
            assert q.answer_text in ("This button is no longer valid.",
                                     "Este botón ya no es válido.")
    assert errors(caplog) == []
    met = ("people", "chats")
    after = await snapshot(bot)
    assert {k: v for k, v in after.items() if k not in met} == {
        k: v for k, v in before.items() if k not in met}
    del org


HOSTILE = ('=HYPERLINK("http://x.example","Raíz")', "+1 Raíz", "-2 Raíz", "@SUM(A1)",
           "\tRaíz", "\rRaíz")


async def test_every_csv_guards_formulas_and_opens_as_utf8(emu: Emulator, make_bot) -> None:
    """The signatures CSV had no guard (issue 21, item 6); /export had one. Both now come from
    one writer: every text cell that a spreadsheet would run starts with an apostrophe, and the
    file starts with a byte-order mark (Excel then reads 'Raíz', not 'RaÃ\xadz')."""
    from tests.alert_helpers import alert_copies, compose, send, text_after
    from tests.test_alerts_statements import sign

    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord)
    alfa = await add_org(emu, bot, "Alfa")
    _, summary = await compose(emu, coord, title="Carta", es=["Texto de la alerta."],
                               asks=("Received", "We sign on"),
                               statement_es=["Nos oponemos a la ley."],
                               statement_en=["We oppose the law."])
    await send(emu, bot, coord, summary)
    [copy] = alert_copies(emu, alfa.groups[0], "Texto de la alerta.")
    es = ("envíe el nombre", "¿Firmar la declaración", "Firmar")
    await sign(emu, alfa.contact, copy, "✍️ Nos sumamos", HOSTILE[0], es)
    chat = emu.private_chat(coord)
    listing = await text_after(emu, chat, "Recent alerts", emu.send(coord, "/alerts").message_id)
    emu.press(coord, listing, label="Status 1")
    status = await text_after(emu, chat, "Answered: 1 of 1", listing.message_id)
    last = emu.bot_messages(chat)[-1].message_id
    emu.press(coord, status, label="Signatures")
    doc = await emu.wait_for(lambda: next((m for m in emu.bot_messages(chat)
                                           if m.message_id > last and m.document), None),
                             what="the signatures CSV")
    assert doc.document.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(doc.document.content.decode("utf-8-sig"))))
    assert [r["signed_as"] for r in rows] == ["'" + HOSTILE[0]]

    # /export: every hostile name guarded, in the same encoding
    for number, name in enumerate(HOSTILE):
        await make_org(bot, 2**36 + number, name, coordinator=coord.id)
    sent = emu.send(coord, "/export")
    export = await emu.wait_for(lambda: next((m for m in emu.bot_messages(chat)
                                               if m.document is not None
                                               and m.message_id > sent.message_id), None),
                                what="the export")
    content = export.document.content
    assert content.startswith("\ufeff".encode())
    names = [r["name"] for r in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
             if r["record"] == "org"]
    assert names == ["Alfa", *("'" + n for n in HOSTILE)]


async def test_html_in_an_organisation_name_reaches_coordinators_as_text(
        emu: Emulator, make_bot) -> None:
    """Item 5: 'Mujeres <30 Oaxaca' made every alert's Status view fail ("can't parse
    entities": the coordinator got nothing), and a name made of a link tag showed a live link."""
    from tests.alert_helpers import compose, send, text_after

    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    await started(emu, coord)
    names = ["Mujeres <30 Oaxaca", "Civic <Lab> 003 & Co", '<a href="http://x.example">Lab</a>']
    for name in names:
        await add_org(emu, bot, name)
    _, summary = await compose(emu, coord, title="Reforma", es=["Texto de la reforma."])
    await send(emu, bot, coord, summary)
    chat = emu.private_chat(coord)
    listing = await text_after(emu, chat, "Recent alerts", emu.send(coord, "/alerts").message_id)
    emu.press(coord, listing, label="Status 1")
    status = await text_after(emu, chat, "Not answered yet", listing.message_id)
    for name in names:
        assert f"• {name}" in status.text
    assert [e for e in status.entities if e.get("type") == "text_link"] == []
    assert emu.parse_errors == []

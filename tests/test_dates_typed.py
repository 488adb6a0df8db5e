"""Dates typed as a coordinator types them, through the emulator (issue 24): the same words work
in every flow that asks "when", in each language, and the bot says back what it understood, in
full and with its zone, before going on; each flow also picks its places with the one picker,
by typing part of a name. The clock starts on Thursday 3 December 2026, 11:18 in
Mexico City (the bot's default zone)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.emulator import Emulator
from tests.action_helpers import coordinator, last_action
from tests.alert_helpers import ask, last_alert, press

MX = ZoneInfo("America/Mexico_City")
START = datetime(2026, 12, 3, 17, 18, tzinfo=UTC)


@pytest.fixture
def clock_start() -> datetime:
    return START


async def test_an_action_starts_on_friday_typed_in_spanish(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "es")
    bot = await make_bot(coordinator_ids=(coord.id,))
    m = await ask(emu, coord, "/action")
    m = await ask(emu, coord, "Audiencia pública")
    m = await press(emu, coord, m, "Omitir")
    m = await press(emu, coord, m, "Audiencia")
    refused = await ask(emu, coord, "el 31/2 a las 10")
    assert refused.text.startswith("No pude leer una fecha ahí: ese día no existe.")
    place = await ask(emu, coord, "el viernes a las 18:00")
    assert place.text.startswith(
        "Entendido: vie 4 dic 2026, 18:00 (hora de México (Ciudad de México)), dentro de 1 día."
        "\n\n")
    assert "¿Dónde?" in place.text
    m = await press(emu, coord, place, "Omitir")
    m = await press(emu, coord, m, "Todas las organizaciones")
    regions = await press(emu, coord, m, "Listo")  # topics
    ticked = await ask(emu, coord, "guate")  # the picker: part of a name
    assert ticked.text.startswith("Marcado: Guatemala.")
    draft = await last_action(bot)
    assert draft is not None and regions.text.startswith("¿Qué regiones?")
    assert draft.starts_at == datetime(2026, 12, 4, 18, 0, tzinfo=MX).astimezone(UTC)
    assert draft.regions == ["GT"]


async def test_an_alert_deadline_tomorrow_in_english(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    m = await ask(emu, coord, "/alert")
    m = await ask(emu, coord, "Consulta")
    m = await ask(emu, coord, "Texto.")
    m = await press(emu, coord, m, "Done")
    m = await press(emu, coord, m, "Done")
    m = await press(emu, coord, m, "Information")
    m = await press(emu, coord, m, "Done")  # topics
    m = await ask(emu, coord, "oaxaca")  # the picker: a place by name
    assert m.text.startswith("Ticked: Oaxaca.")
    m = await press(emu, coord, m, "Done")
    m = await press(emu, coord, m, "All organisations")
    m = await press(emu, coord, m, "Skip")  # link
    asks = await ask(emu, coord, "tomorrow 10am")
    assert asks.text.startswith(
        "Understood: Fri 4 Dec 2026, 10:00 (Mexico (Mexico City) Time), in 23 hours.\n\n")
    assert "Which answers should organisations give?" in asks.text
    draft = await last_alert(bot)
    assert draft is not None
    assert draft.deadline == datetime(2026, 12, 4, 10, 0, tzinfo=MX).astimezone(UTC)
    assert draft.regions == ["MX-OAX"]


async def test_a_poll_closes_in_three_days_typed_in_words(emu: Emulator, make_bot) -> None:
    coord = await coordinator(emu, "es")
    await make_bot(coordinator_ids=(coord.id,))
    await ask(emu, coord, "/poll")
    await ask(emu, coord, "¿Qué primero?")
    m = await ask(emu, coord, "A\nB")
    for label in ("Opción única", "Un voto por organización", "No", "Todas las organizaciones"):
        m = await press(emu, coord, m, label)
    m = await press(emu, coord, m, "Solo algunas: por lugar, tema o tipo")
    m = await ask(emu, coord, "jal")  # the picker: part of a name
    assert m.text.startswith("Marcado: Jalisco.")
    m = await press(emu, coord, m, "Listo")  # places
    m = await press(emu, coord, m, "Listo")  # topics
    m = await press(emu, coord, m, "Listo")  # kinds
    preview = await ask(emu, coord, "3 días")
    assert "Cierre: dom 6 dic 2026, 11:18 (hora de México (Ciudad de México))" in preview.text
    assert "Solo: Jalisco" in preview.text


async def test_the_same_words_in_the_other_language(emu: Emulator, make_bot) -> None:
    """The English action, the Spanish alert, the English poll: each flow reads the other
    language's words too."""
    en = await coordinator(emu, "en")
    es = emu.add_user("Coordinadora", language_code="es")
    emu.private_chat(es).started = True
    bot = await make_bot(coordinator_ids=(en.id, es.id))
    m = await ask(emu, en, "/action")
    m = await ask(emu, en, "Public hearing")
    m = await press(emu, en, m, "Skip")
    m = await press(emu, en, m, "Hearing")
    place = await ask(emu, en, "Friday 6pm")
    assert place.text.startswith(
        "Understood: Fri 4 Dec 2026, 18:00 (Mexico (Mexico City) Time), in 1 day.\n\n")
    m = await press(emu, en, place, "Skip")
    m = await press(emu, en, m, "All organisations")
    m = await press(emu, en, m, "Done")  # topics
    ticked = await ask(emu, en, "Nuevo León, Mexico City")
    assert ticked.text.startswith("Ticked: Nuevo León, Ciudad de México.")
    action = await last_action(bot)
    assert action is not None
    assert action.starts_at == datetime(2026, 12, 4, 18, 0, tzinfo=MX).astimezone(UTC)
    assert action.regions == ["MX-CMX", "MX-NLE"]

    m = await ask(emu, es, "/alert")
    m = await ask(emu, es, "Consulta")
    m = await ask(emu, es, "Texto.")
    m = await press(emu, es, m, "Listo")
    m = await press(emu, es, m, "Listo")
    m = await press(emu, es, m, "Información")
    m = await press(emu, es, m, "Listo")  # topics
    m = await ask(emu, es, "Yucatán")  # the picker
    assert m.text.startswith("Marcado: Yucatán.")
    m = await press(emu, es, m, "Listo")
    m = await press(emu, es, m, "Todas las organizaciones")
    m = await press(emu, es, m, "Omitir")
    asks = await ask(emu, es, "mañana a las 10")
    assert asks.text.startswith(
        "Entendido: vie 4 dic 2026, 10:00 (hora de México (Ciudad de México)), dentro de 23 "
        "horas.\n\n")
    alert = await last_alert(bot)
    assert alert is not None
    assert alert.deadline == datetime(2026, 12, 4, 10, 0, tzinfo=MX).astimezone(UTC)

    await ask(emu, en, "/poll")
    await ask(emu, en, "Which first?")
    m = await ask(emu, en, "A\nB")
    for label in ("Single choice", "One vote per organisation", "No", "All organisations",
                  "Only some: by place, topic or kind"):
        m = await press(emu, en, m, label)
    m = await ask(emu, en, "Guatemala")
    assert m.text.startswith("Ticked: Guatemala.")
    for _ in range(3):  # places, topics, kinds
        m = await press(emu, en, m, "Done")
    preview = await ask(emu, en, "in 3 days")
    assert "Only: Guatemala" in preview.text
    assert "Closes: Sun 6 Dec 2026, 11:18 (Mexico (Mexico City) Time)" in preview.text

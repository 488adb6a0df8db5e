"""The one place picker of the composers (issue 24): who is reached, by where they work.

Alerts and actions ask their regions with this step: Mexico as a whole, then its states, then
the Latin American countries, each sorted by its name in the reader's language, as buttons to
tick; typing part of a name ("jal", "Guatemala", "Nuevo León, Oaxaca") ticks what it finds. No
region ticked reaches everywhere. /poll's and /members' typed filters read places with the same
words (bot/services/shared/vocabulary.regions_in).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import i18n
from bot.i18n import Text
from bot.services.shared import vocabulary as v
from handlers.shared.guided import Kind, Step

COUNTRIES: tuple[str, ...] = tuple(c for c in v.LATAM if c != "MX")


def places(t: Text, draft: Any = None) -> list[tuple[str, str]]:
    """(code, name) of every place, as the picker lists them."""
    return [("MX", t.tr("All of Mexico")),
            *((c, v.region_label(c, t.lang)) for c in v.regions_by_name(v.MX_STATES, t.lang)),
            *((c, v.region_label(c, t.lang)) for c in v.regions_by_name(COUNTRIES, t.lang))]


def places_step(question: Callable[[Text, Any], str], name: str = "regions") -> Step:
    return Step(name, Kind.TOGGLE, question, options=places, per_row=3,
                search=lambda t, text, _: v.regions_matching(text, t.lang),
                label=i18n.N_("Regions"))

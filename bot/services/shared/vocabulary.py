"""The closed sets organisations are described with (docs/DESIGN.md, "Words"), and how regions
meet areas.

Codes are stored; labels are shown through gettext (`N_` marks them for extraction). States are
ISO 3166-2 codes of Mexico's 32 states; countries ISO 3166-1 codes (names from Babel's CLDR).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from babel import Locale

from bot.i18n import N_
from bot.words import plain

KINDS: dict[str, str] = {
    "cso": N_("Civil-society organisation"),
    "foundation": N_("Foundation"),
    "academic": N_("Academic institution"),
    "activist": N_("Activist collective"),
    "international": N_("International organisation's office"),
}
TIERS: dict[str, str] = {"member": N_("Full member"), "ally": N_("Ally")}
SCOPES: dict[str, str] = {
    "local": N_("Local"),
    "state": N_("State"),
    "national": N_("National"),
    "regional": N_("Regional (Latin America)"),
}
TOPICS: dict[str, str] = {
    "association-law": N_("Association law"),
    "tax": N_("Taxes"),
    "aml": N_("Anti-money-laundering"),
    "foreign-funding": N_("Foreign funding"),
    "surveillance": N_("Surveillance"),
    "protest": N_("Right to protest"),
    "transparency": N_("Transparency"),
}
CAPACITIES: dict[str, str] = {
    "legal": N_("Legal advice"),
    "digital-security": N_("Digital security"),
    "communications": N_("Communications"),
    "research": N_("Research"),
    "psychosocial": N_("Psychosocial support"),
    "funding": N_("Funding"),
}
LANGUAGES = ("es", "en")

# Mexico's 32 federal entities (ISO 3166-2:MX). Proper names, the same in both languages.
MX_STATES: dict[str, str] = {
    "MX-AGU": "Aguascalientes", "MX-BCN": "Baja California", "MX-BCS": "Baja California Sur",
    "MX-CAM": "Campeche", "MX-CHP": "Chiapas", "MX-CHH": "Chihuahua", "MX-CMX": "Ciudad de México",
    "MX-COA": "Coahuila", "MX-COL": "Colima", "MX-DUR": "Durango", "MX-GUA": "Guanajuato",
    "MX-GRO": "Guerrero", "MX-HID": "Hidalgo", "MX-JAL": "Jalisco", "MX-MEX": "Estado de México",
    "MX-MIC": "Michoacán", "MX-MOR": "Morelos", "MX-NAY": "Nayarit", "MX-NLE": "Nuevo León",
    "MX-OAX": "Oaxaca", "MX-PUE": "Puebla", "MX-QUE": "Querétaro", "MX-ROO": "Quintana Roo",
    "MX-SLP": "San Luis Potosí", "MX-SIN": "Sinaloa", "MX-SON": "Sonora", "MX-TAB": "Tabasco",
    "MX-TAM": "Tamaulipas", "MX-TLA": "Tlaxcala", "MX-VER": "Veracruz", "MX-YUC": "Yucatán",
    "MX-ZAC": "Zacatecas",
}
# Latin American countries a regional organisation may list.
LATAM: tuple[str, ...] = (
    "AR", "BO", "BR", "CL", "CO", "CR", "CU", "DO", "EC", "GT", "HN", "MX", "NI", "PA", "PE",
    "PY", "SV", "UY", "VE",
)
MAX_NAME = 120
MIN_NAME = 2


def is_state(code: str) -> bool:
    return code in MX_STATES


def country_of(code: str) -> str:
    return code.split("-", 1)[0]


def meets(region: str, area: str) -> bool:
    """Rule T: a region meets an area when equal, or when one lies inside the other."""
    if region == area:
        return True
    return ("-" in area and country_of(area) == region) or (
        "-" in region and country_of(region) == area)


def meets_any(regions: list[str], areas: list[str]) -> bool:
    return not regions or any(meets(r, a) for r in regions for a in areas)


# -- regions by name ------------------------------------------------------------------------------
# One reader for every place a region is typed (/action's regions, /poll's and /members' filters):
# a code (MX-JAL, GT) or a name, in Spanish or English, with or without accents ("Jalisco",
# "Nuevo Leon", "Ciudad de México", "Guatemala", "Mexico"). Babel gives the countries' names.

@lru_cache(maxsize=1)
def _region_names() -> dict[str, str]:
    """Plain name or code -> region code."""
    names: dict[str, str] = {}
    for code, name in MX_STATES.items():
        names[plain(code)] = code
        names[plain(code.split("-", 1)[1])] = code  # JAL
        names[plain(name)] = code
    # what English writes differently, and the usual short forms
    for alias, code in (("CDMX", "MX-CMX"), ("Mexico City", "MX-CMX"), ("DF", "MX-CMX"),
                        ("Edomex", "MX-MEX"), ("State of Mexico", "MX-MEX"),
                        ("Mexico State", "MX-MEX")):
        names[plain(alias)] = code
    for code in LATAM:
        names[plain(code)] = code
        for lang in LANGUAGES:
            name = Locale.parse(lang).territories.get(code)
            if name:
                names[plain(name)] = code
    return names


def region_code(word: str) -> str | None:
    """The region a code or a name stands for; None when it stands for none."""
    return _region_names().get(plain(word))


def regions_in(text: str) -> tuple[list[str], list[str]]:
    """The regions a typed list names (commas or spaces between them; a name may have several
    words, "Nuevo León"), and what was not understood."""
    names = _region_names()
    longest = max(len(n.split()) for n in names)
    found: list[str] = []
    unknown: list[str] = []
    for chunk in text.replace(";", ",").split(","):
        words = chunk.split()
        i = 0
        while i < len(words):
            for size in range(min(longest, len(words) - i), 0, -1):
                code = names.get(plain(" ".join(words[i:i + size])))
                if code is not None:
                    if code not in found:
                        found.append(code)
                    i += size
                    break
            else:
                unknown.append(words[i])
                i += 1
    return found, unknown


def region_label(code: str, lang: str) -> str:
    """A region's name for people: the state's, or the country's in `lang`."""
    if code in MX_STATES:
        return MX_STATES[code]
    return str(Locale.parse(lang).territories.get(code, code))


def regions_by_name(codes: Iterable[str], lang: str) -> list[str]:
    """Codes sorted by their name in `lang` (accents ignored), as a person looks for one."""
    return sorted(codes, key=lambda c: plain(region_label(c, lang)))


def filter_pairs(text: str) -> list[tuple[str, str]]:
    """`state=Nuevo León,Oaxaca topic=tax` -> [("state", "Nuevo León,Oaxaca"), ("topic", "tax")]:
    a value runs to the next `name=`, so a place's name may have spaces. A word before any
    `name=` is its own pair with an empty name (the caller refuses it)."""
    pairs: list[tuple[str, str]] = []
    for word in text.split():
        name, sep, value = word.partition("=")
        if sep and name:
            pairs.append((name.lower(), value))
        elif pairs:
            pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]} {word}".strip())
        else:
            pairs.append(("", word))
    return pairs


def regions_matching(text: str, lang: str, limit: int = 8) -> tuple[list[str], list[str]]:
    """The places a typed word or list names, and the words that name none: exact names and
    codes (regions_in), and for each word left, the places whose name in `lang` or in Spanish
    contains it ("jal", "baja", "guate"), by name."""
    found, unknown = regions_in(text)
    left = []
    for word in unknown:
        typed = plain(word)
        matches = [c for c in (*MX_STATES, *LATAM) if len(typed) >= 3 and any(
            typed in plain(region_label(c, name_lang)) for name_lang in {lang, "es"})]
        if not matches:
            left.append(word)
        found += [c for c in regions_by_name(matches, lang) if c not in found]
    return found[:limit], left

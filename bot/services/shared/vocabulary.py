"""The closed sets organisations are described with (docs/DESIGN.md, "Words"), and how regions
meet areas.

Codes are stored; labels are shown through gettext (`N_` marks them for extraction). States are
ISO 3166-2 codes of Mexico's 32 states; countries ISO 3166-1 codes (names from Babel's CLDR).
"""

from __future__ import annotations

from bot.i18n import N_

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

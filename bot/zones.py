"""Time zones found by what people call them: a city or a country in Spanish or English
("Guatemala", "Ciudad de México", "Madrid", "Bogotá"), or an IANA name (issue 24).

The names come from Babel's CLDR data (every zone's exemplar city and its country, in both
languages), so nothing is kept by hand but the zone a country with several means first.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.core import get_global

from bot.dates import zone_city
from bot.words import plain

LANGUAGES = ("es", "en")
# A country with several zones means this one when named alone (the others stay one city away).
MAIN_ZONE = {
    "MX": "America/Mexico_City", "US": "America/New_York", "ES": "Europe/Madrid",
    "BR": "America/Sao_Paulo", "AR": "America/Argentina/Buenos_Aires", "CA": "America/Toronto",
    "CL": "America/Santiago", "EC": "America/Guayaquil", "PT": "Europe/Lisbon",
    "CO": "America/Bogota", "DE": "Europe/Berlin", "GB": "Europe/London", "FR": "Europe/Paris",
}
MAX_FOUND = 8


def _plain(text: str) -> str:
    return plain(text.replace("_", " "))


def is_zone(name: str) -> bool:
    name = name.strip()
    if not name or len(name) > 64 or ".." in name or name.startswith("/"):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def city(zone: str, lang: str) -> str:
    """The zone's city as `lang` writes it ("Ciudad de México", "Mexico City")."""
    return zone_city(zone, lang)


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Plain city names -> zones, plain country names -> zones (main zone first)."""
    territories = get_global("zone_territories")
    known = available_timezones()
    cities: dict[str, list[str]] = {}
    countries: dict[str, list[str]] = {}
    for zone, territory in territories.items():
        if zone not in known or territory in ("001", "ZZ"):
            continue
        for lang in LANGUAGES:
            cities.setdefault(_plain(city(zone, lang)), [])
            if zone not in cities[_plain(city(zone, lang))]:
                cities[_plain(city(zone, lang))].append(zone)
            name = Locale.parse(lang).territories.get(territory)
            if name:
                zones = countries.setdefault(_plain(name), [])
                if zone not in zones:
                    zones.append(zone)
    for zones in countries.values():
        zones.sort(key=lambda z: (z != MAIN_ZONE.get(territories.get(z, ""), ""), z))
    return cities, countries


def find(text: str) -> list[str]:
    """The zones `text` names, best first: an IANA name; a city; a country (its main zone
    first); else the cities whose name begins with it. Empty when nothing matches."""
    raw = text.strip()
    if raw.upper() in ("UTC", "GMT"):
        return ["UTC"]
    if is_zone(raw) and "/" in raw:
        return [raw]
    words = _plain(raw)
    if not words:
        return []
    cities, countries = _index()
    if words in cities:
        return cities[words][:MAX_FOUND]
    if words in countries:
        zones = countries[words]
        main = MAIN_ZONE.get(get_global("zone_territories").get(zones[0], ""))
        return [main] if main in zones else zones[:MAX_FOUND]
    if len(words) < 3:
        return []
    found: list[str] = []
    for name, zones in sorted(cities.items()):
        if name.startswith(words) or f" {words}" in f" {name}":
            found += [z for z in zones if z not in found]
    return found[:MAX_FOUND]

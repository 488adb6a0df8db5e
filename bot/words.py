"""Typed words compared as people mean them: lower case, accents off, single spaces.

"Ciudad de México", "ciudad de mexico" and "CIUDAD  DE MEXICO" are one name to the date parser,
the zone finder and the place reader alike.
"""

from __future__ import annotations

import unicodedata


def plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())

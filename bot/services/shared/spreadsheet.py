"""The one CSV writer every export uses (the coalition's /export, an alert's signatures).

Why one: coordinators open these files in Excel or LibreOffice, where a cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return can run as a formula (CSV injection: a member's
name `=HYPERLINK(...)` becomes a live link). Every text cell is guarded here by a leading
apostrophe; numbers are written as numbers (a group's id is negative, not a formula). The file is
UTF-8 with a byte-order mark, which Excel needs to read "Raíz" as "Raíz", not "RaÃ­z".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A value as a spreadsheet will read it, never as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_file(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A whole CSV file: the header, then each row, every cell guarded; UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")

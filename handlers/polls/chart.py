"""The results chart: a PNG of the totals per option, drawn with matplotlib (issue 9).

Why the data is returned too: the tests check that the chart shows exactly the options and
totals of the result, and that the PNG decodes; reading bars back out of pixels would not say
which is which.
"""

from __future__ import annotations

import io
from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    labels: list[str]
    values: list[int]
    png: bytes


def draw(title: str, labels: list[str], values: list[int], axis_label: str) -> Chart:
    """A horizontal bar chart, the first option at the top; labels shortened to fit."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    height = 1.2 + 0.5 * len(labels)
    figure = Figure(figsize=(7, height), dpi=100)
    axes = figure.add_subplot()
    shown = [label if len(label) <= 40 else label[:39] + "…" for label in labels]
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, values, color="#3b6ea5")
    axes.set_yticks(positions, shown)
    axes.set_xlabel(axis_label)
    axes.set_title(title if len(title) <= 70 else title[:69] + "…", fontsize=10)
    for y, value in zip(positions, values, strict=True):
        axes.text(value, y, f" {value}", va="center", fontsize=9)
    axes.set_xlim(0, max([*values, 1]) * 1.15)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return Chart(list(labels), list(values), buffer.getvalue())

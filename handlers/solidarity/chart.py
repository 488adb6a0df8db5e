"""The coordinators' chart of solidarity measures: requests and offers per kind of help, as a
PNG (matplotlib's Agg backend, the dependency the polls' chart brought; no display needed).

Why the data is returned too: tests check the chart shows exactly the measures' figures, which
reading bars back out of pixels would not tell.
"""

from __future__ import annotations

import io
from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    labels: list[str]
    requests: list[int]
    offers: list[int]
    png: bytes


def draw(title: str, labels: list[str], requests: list[int], offers: list[int],
         legend: tuple[str, str]) -> Chart:
    """Horizontal bars, two per kind of help (requests, then offers), the first at the top."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 1.4 + 0.7 * len(labels)), dpi=100)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    asked = axes.barh([p + 0.2 for p in positions], requests, height=0.4, color="#b5493b",
                      label=legend[0])
    offered = axes.barh([p - 0.2 for p in positions], offers, height=0.4, color="#3b6ea5",
                        label=legend[1])
    axes.bar_label(asked, padding=2, fontsize=9)
    axes.bar_label(offered, padding=2, fontsize=9)
    axes.set_yticks(positions, [x if len(x) <= 30 else x[:29] + "…" for x in labels])
    axes.set_xlim(0, max([*requests, *offers, 1]) * 1.2)
    axes.set_title(title if len(title) <= 70 else title[:69] + "…", fontsize=10)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return Chart(list(labels), list(requests), list(offers), buffer.getvalue())

"""Chart geometry for inline SVG: a histogram with marked values and a horizontal bar
chart. The numbers are computed here; `templates/_charts.html` draws them (so every label
is escaped by the template engine). No script, no external font: a page stays readable
offline and in a printed audit file."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # shown on hover (SVG title)


@dataclass(frozen=True)
class Mark:
    x: float
    label: str
    value: float
    kind: str  # CSS class: "bound", "max", "reference"


@dataclass(frozen=True)
class Histogram:
    width: int
    height: int
    bars: list[Bar]
    marks: list[Mark]
    ticks: list[tuple[float, str]]  # (x, text) along the value axis
    y_max: int
    x_label: str
    count: int


@dataclass(frozen=True)
class BarRow:
    y: float
    width: float
    label: str
    value: int
    note: str = ""


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: int
    rows: list[BarRow] = field(default_factory=list)


def _fmt(value: float) -> str:
    return "0" if value == 0 else f"{value:.2g}"


def histogram(
    values: Sequence[float],
    marks: Sequence[tuple[float, str, str]] = (),
    *,
    bins: int = 24,
    x_label: str = "",
    width: int = 640,
    height: int = 220,
) -> Histogram:
    """Counts of `values` in `bins` equal bins from 0 to the largest value or mark;
    `marks` are (value, label, kind) drawn as vertical lines."""
    left, right, top, bottom = 40, 32, 24, 36
    top_value = max([*values, *(m[0] for m in marks), 0.0])
    span = top_value * 1.05 if top_value > 0 else 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v / span * bins))] += 1
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = max(counts, default=0) or 1
    step = plot_w / bins
    bars = [
        Bar(
            x=left + i * step,
            y=top + plot_h * (1 - c / y_max),
            width=max(step - 1, 1),
            height=plot_h * c / y_max,
            label=f"{c} sample(s) with error in [{_fmt(i * span / bins)}, "
            f"{_fmt((i + 1) * span / bins)})",
        )
        for i, c in enumerate(counts)
    ]
    scaled = [Mark(left + plot_w * v / span, label, v, kind) for v, label, kind in marks]
    ticks = [(left + plot_w * t / 4, _fmt(span * t / 4)) for t in range(5)]
    return Histogram(width, height, bars, scaled, ticks, y_max, x_label, len(values))


def bar_chart(
    rows: Sequence[tuple[str, int, str]], *, width: int = 640, row_height: int = 22
) -> BarChart:
    """Horizontal bars of (label, value, note) rows, on a square-root scale so that a
    node of a few constraints is still visible next to one of many thousands."""
    label_width, value_width = 200, 90
    plot_w = width - label_width - value_width
    top_value = max((v for _, v, _ in rows), default=0)
    scale = math.sqrt(top_value) if top_value > 0 else 1.0
    out = [
        BarRow(y=i * row_height, width=plot_w * math.sqrt(max(v, 0)) / scale, label=label,
               value=v, note=note)
        for i, (label, v, note) in enumerate(rows)
    ]  # fmt: skip
    return BarChart(width, max(1, len(rows)) * row_height, label_width, out)

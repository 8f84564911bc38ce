"""A course chart: values by day after a session against an expected band, as an SVG drawn on
the server, and the same data as a table to show beside it.

Pure Python (no Django, no database), so any app can draw one: the photos app draws redness on
photos and symptom scores against the expected healing course; the outcomes work draws its
scores the same way. ``chart_svg`` takes the series and the band and returns the SVG markup
(every text escaped here; the caller marks it safe); ``chart_table`` gives the rows of the text
table that stands beside it, for screen readers and for reading exact values.

The picture carries no script and no style attribute: colours are SVG presentation
attributes, so it renders the same in a page under a strict CSP and in a PDF. With
``numbers=False`` (the patient's page) the axes carry words instead of values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 640
HEIGHT = 260
MARGIN_LEFT = 56
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 44

# Dark enough against white for lines and markers (WCAG non-text contrast ≥ 3:1), and told
# apart by their dash pattern too, not by colour alone.
PALETTE = ("#0b5c6b", "#a1141b", "#6b3fa0", "#7a4d00", "#1d6b34", "#334155")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2")
BAND_FILL = "#d7ebe4"
BAND_EDGE = "#4d8a76"


@dataclass(frozen=True)
class Series:
    """One line: ``points`` are (day, value) pairs; a value of None leaves a gap."""

    name: str
    points: Sequence[tuple[int, float | None]]


@dataclass(frozen=True)
class Band:
    """The expected range by day: (day, low, high)."""

    label: str
    days: Sequence[tuple[int, float, float]]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)


def _number(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _nice_step(span: float, target_ticks: int = 5) -> float:
    raw = span / max(target_ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= raw:
            return step * magnitude
    return 10 * magnitude


def _range(series: Sequence[Series], band: Band | None,
           y_range: tuple[float, float] | None) -> tuple[float, float]:
    if y_range is not None:
        return y_range
    values = [v for s in series for _, v in s.points if v is not None]
    if band is not None:
        values += [x for _, low, high in band.days for x in (low, high)]
    low = min([0.0, *values])
    high = max([1.0, *values])
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step


def chart_svg(series: Sequence[Series], band: Band | None = None, *, title: str,
              description: str = "", y_label: str, x_label: str,
              last_day: int | None = None, y_range: tuple[float, float] | None = None,
              numbers: bool = True, low_words: str = "", high_words: str = "",
              id_prefix: str = "chart") -> str:
    """The SVG of ``series`` by day (0 = the session) over the shaded ``band``.

    ``numbers=False`` leaves every value off the axes (for patients) and writes
    ``low_words`` and ``high_words`` at the bottom and top of the vertical axis instead.
    ``id_prefix`` keeps the title and description ids unique on a page with several charts.
    """
    days = [d for s in series for d, _ in s.points] + (
        [d for d, _, _ in band.days] if band is not None else [])
    last = max([last_day or 0, *days, 1])
    y0, y1 = _range(series, band, y_range)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def x(day: float) -> float:
        return MARGIN_LEFT + plot_w * day / last

    def y(value: float) -> float:
        value = min(max(value, y0), y1)
        return MARGIN_TOP + plot_h * (1 - (value - y0) / (y1 - y0 or 1))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="course-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="{id_prefix}-title '
        f'{id_prefix}-desc" font-family="DejaVu Sans, sans-serif" font-size="12">',
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<desc id="{id_prefix}-desc">{escape(description or title)}</desc>',
        f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" height="{plot_h}" '
        f'fill="#ffffff" stroke="#8a96a3"/>',
    ]
    if band is not None and band.days:
        ordered = sorted(band.days)
        outline = [(x(d), y(high)) for d, _, high in ordered] + [
            (x(d), y(low)) for d, low, _ in reversed(ordered)]
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in outline)
        parts.append(f'<polygon points="{points}" fill="{BAND_FILL}" stroke="{BAND_EDGE}" '
                     f'stroke-width="1"><title>{escape(band.label)}</title></polygon>')
    # Axes: days along the bottom, values (or words) up the side.
    tick_step = max(1, round(_nice_step(last, 8)))
    for day in range(0, last + 1, tick_step):
        parts.append(f'<line x1="{x(day):.1f}" y1="{MARGIN_TOP + plot_h}" x2="{x(day):.1f}" '
                     f'y2="{MARGIN_TOP + plot_h + 4}" stroke="#4a5560"/>')
        if numbers:
            parts.append(f'<text x="{x(day):.1f}" y="{MARGIN_TOP + plot_h + 17}" '
                         f'text-anchor="middle" fill="#1b1f24">{day}</text>')
    parts.append(f'<text x="{MARGIN_LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" '
                 f'text-anchor="middle" fill="#1b1f24">{escape(x_label)}</text>')
    if numbers:
        step = _nice_step(y1 - y0)
        tick = y0
        while tick <= y1 + 1e-9:
            parts.append(f'<line x1="{MARGIN_LEFT - 4}" y1="{y(tick):.1f}" x2="{MARGIN_LEFT}" '
                         f'y2="{y(tick):.1f}" stroke="#4a5560"/>')
            parts.append(f'<text x="{MARGIN_LEFT - 7}" y="{y(tick) + 4:.1f}" '
                         f'text-anchor="end" fill="#1b1f24">{_number(tick)}</text>')
            tick += step
        if y0 < 0 < y1:
            parts.append(f'<line x1="{MARGIN_LEFT}" y1="{y(0):.1f}" x2="{MARGIN_LEFT + plot_w}" '
                         f'y2="{y(0):.1f}" stroke="#8a96a3" stroke-dasharray="2 2"/>')
    else:
        if high_words:
            parts.append(f'<text x="{MARGIN_LEFT + 6}" y="{MARGIN_TOP + 14}" '
                         f'fill="#1b1f24">{escape(high_words)}</text>')
        if low_words:
            parts.append(f'<text x="{MARGIN_LEFT + 6}" y="{MARGIN_TOP + plot_h - 6}" '
                         f'fill="#1b1f24">{escape(low_words)}</text>')
    parts.append(f'<text transform="translate(14 {MARGIN_TOP + plot_h / 2:.1f}) rotate(-90)" '
                 f'text-anchor="middle" fill="#1b1f24">{escape(y_label)}</text>')
    for index, line in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        dash = DASHES[index % len(DASHES)]
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        runs: list[list[tuple[float, float]]] = [[]]
        for day, value in sorted(line.points, key=lambda p: p[0]):
            if value is None:
                runs.append([])
                continue
            runs[-1].append((x(day), y(value)))
        parts.append(f'<g class="series"><title>{escape(line.name)}</title>')
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                             f'stroke-width="2"{dash_attribute}/>')
            for px, py in run:
                parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{colour}"/>')
        parts.append("</g>")
    # The legend, inside the plot's top-right corner, one row per series and the band.
    entries = [(PALETTE[i % len(PALETTE)], s.name) for i, s in enumerate(series)]
    if band is not None and band.days:
        entries.append((BAND_FILL, band.label))
    for row, (colour, name) in enumerate(entries):
        top = MARGIN_TOP + 6 + 16 * row
        left = MARGIN_LEFT + plot_w - 190
        parts.append(f'<rect x="{left}" y="{top}" width="12" height="12" fill="{colour}" '
                     f'stroke="#4a5560" stroke-width="0.5"/>')
        parts.append(f'<text x="{left + 17}" y="{top + 10}" fill="#1b1f24">'
                     f'{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def chart_table(series: Sequence[Series], band: Band | None = None, *, day_header: str,
                band_headers: tuple[str, str] | None = None, missing: str = "—") -> Table:
    """The chart's data as a table: one row per day that has a value, a column per series
    (and the band's low and high when ``band_headers`` names them)."""
    days = sorted({d for s in series for d, v in s.points if v is not None})
    by_series = [{d: v for d, v in s.points if v is not None} for s in series]
    band_by_day = {d: (low, high) for d, low, high in band.days} if band is not None else {}
    headers = [day_header, *(s.name for s in series)]
    if band_headers is not None:
        headers += list(band_headers)
    table = Table(headers)
    for day in days:
        row = [str(day), *(_number(values[day]) if day in values else missing
                           for values in by_series)]
        if band_headers is not None:
            low_high = band_by_day.get(day)
            row += ([_number(low_high[0]), _number(low_high[1])] if low_high
                    else [missing, missing])
        table.rows.append(row)
    return table

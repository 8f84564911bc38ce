"""Charts drawn on the server as SVG, each with the table of the numbers it draws.

A chart is markup in the page: it shows without JavaScript, prints, scales with the window, and
carries a title and description for screen readers, who are also given the table beside it (a
chart alone is not accessible). Colours and lines come from the stylesheet through class names
(``chart-band``, ``chart-line``…): no inline styles, so a strict CSP holds.

``symptom_chart`` draws a reported score by day against the expected band (the recovery chart:
one call per symptom); ``bar_chart`` draws counts, each bar a link to the records behind it.
The SVG is built with ElementTree, which escapes every label.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 14, 34


@dataclass(frozen=True)
class Point:
    """A reported value on a day (day 0 = the session day)."""

    day: int
    value: float


@dataclass(frozen=True)
class BandDay:
    """The expected range on a day."""

    day: int
    low: float
    high: float


@dataclass(frozen=True)
class ChartRow:
    day: int
    value: float | None
    low: float | None
    high: float | None
    #: The reported value is above the expected band.
    above: bool


@dataclass(frozen=True)
class Chart:
    title: str
    svg: SafeString
    rows: list[ChartRow]
    #: One sentence for the table's caption and the SVG's description.
    summary: str


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot hold (ElementTree would write them and
    make the page's SVG ill-formed)."""
    return _NOT_XML.sub("", value)


def _number(value: float) -> str:
    return f"{value:g}"


def _svg(title: str, description: str, css_class: str,
         links: bool = False) -> tuple[ET.Element, str]:
    """The chart's root. A chart with links is a group of them (an image's content is hidden
    from assistive technology, links included)."""
    ident = "chart-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower())[:40]
    root = ET.Element("svg", {
        "xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {WIDTH} {HEIGHT}",
        "class": f"chart {css_class}", "role": "group" if links else "img",
        "aria-labelledby": f"{ident}-title {ident}-desc", "focusable": "false"})
    ET.SubElement(root, "title", {"id": f"{ident}-title"}).text = _text(title)
    ET.SubElement(root, "desc", {"id": f"{ident}-desc"}).text = _text(description)
    return root, ident


def _done(root: ET.Element) -> SafeString:
    # ElementTree escaped every text and attribute; nothing typed by anyone is unescaped.
    return mark_safe(ET.tostring(root, encoding="unicode"))


def _axis_text(parent: ET.Element, x: float, y: float, text: str, anchor: str) -> None:
    ET.SubElement(parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", "text-anchor": anchor,
                                   "class": "chart-axis-label"}).text = _text(text)


def symptom_chart(series: Sequence[Point], band: Sequence[BandDay], *, title: str,
                  y_max: float = 10, value_label: str | None = None) -> Chart:
    """Reported values by day against the expected band, and the table of both.

    The band is drawn as a shaded area from each day's low to its high, stepped per day; the
    reports as a line through their points, each point above the band marked."""
    value_label = value_label or _("Score (0–10)")
    by_day = {b.day: b for b in band}
    days = sorted({*by_day, *(p.day for p in series)}) or [0]
    first, last = days[0], max(days[-1], days[0] + 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: float) -> float:
        return LEFT + (day - first) / (last - first) * plot_w

    def y(value: float) -> float:
        return TOP + plot_h - min(max(value, 0), y_max) / y_max * plot_h

    rows = []
    reported = {p.day: p.value for p in series}  # the last report of a day wins
    for day in days:
        expected = by_day.get(day)
        value = reported.get(day)
        rows.append(ChartRow(day=day, value=value,
                             low=expected.low if expected else None,
                             high=expected.high if expected else None,
                             above=value is not None and expected is not None
                             and value > expected.high))
    above = sum(row.above for row in rows)
    if not series:
        summary = _("No reports yet.")
    elif above:
        summary = _("%(n)d of %(total)d reports above the expected range.") % {
            "n": above, "total": len(series)}
    else:
        summary = _("Every report within the expected range.")
    root, _ident = _svg(title, summary, "chart-symptom")

    grid = ET.SubElement(root, "g", {"class": "chart-grid"})
    for tick in range(0, int(y_max) + 1, max(1, int(y_max) // 5)):
        ET.SubElement(grid, "line", {"x1": str(LEFT), "x2": str(WIDTH - RIGHT),
                                     "y1": f"{y(tick):.1f}", "y2": f"{y(tick):.1f}"})
        _axis_text(root, LEFT - 6, y(tick) + 4, _number(tick), "end")
    step = max(1, math.ceil((last - first) / 10))
    for day in range(first, last + 1, step):
        _axis_text(root, x(day), HEIGHT - BOTTOM + 16, str(day), "middle")
    _axis_text(root, LEFT + plot_w / 2, HEIGHT - 4, _("Days after the session"), "middle")
    label = ET.SubElement(root, "text", {"x": "12", "y": f"{TOP + plot_h / 2:.1f}",
                                         "class": "chart-axis-label", "text-anchor": "middle",
                                         "transform": f"rotate(-90 12 {TOP + plot_h / 2:.1f})"})
    label.text = _text(value_label)

    if band:
        # Stepped: each day's range holds from the day to the next.
        ordered = sorted(band, key=lambda b: b.day)
        upper: list[str] = []
        lower: list[str] = []
        for i, b in enumerate(ordered):
            end = ordered[i + 1].day if i + 1 < len(ordered) else b.day + 1
            end = min(end, last)
            upper += [f"{x(b.day):.1f},{y(b.high):.1f}", f"{x(end):.1f},{y(b.high):.1f}"]
            lower += [f"{x(b.day):.1f},{y(b.low):.1f}", f"{x(end):.1f},{y(b.low):.1f}"]
        ET.SubElement(root, "polygon", {"class": "chart-band",
                                        "points": " ".join(upper + lower[::-1])})
    points = sorted(reported.items())
    if len(points) > 1:
        ET.SubElement(root, "polyline", {"class": "chart-line", "points": " ".join(
            f"{x(d):.1f},{y(v):.1f}" for d, v in points)})
    for row in rows:
        if row.value is None:
            continue
        dot = ET.SubElement(root, "circle", {
            "cx": f"{x(row.day):.1f}", "cy": f"{y(row.value):.1f}", "r": "5" if row.above else "4",
            "class": "chart-point chart-above" if row.above else "chart-point"})
        ET.SubElement(dot, "title").text = _("Day %(day)d: %(value)s") % {
            "day": row.day, "value": _number(row.value)}
    return Chart(title=title, svg=_done(root), rows=rows, summary=summary)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    #: Where the records behind the number are listed.
    href: str = ""


def bar_chart(bars: Sequence[Bar], *, title: str, value_label: str) -> Chart:
    """Vertical bars with their value above each; a bar with ``href`` is a link."""
    top_value = max([b.value for b in bars] + [1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(bars), 1)
    total = sum(b.value for b in bars)
    summary = _("%(n)d bars, %(total)s in all.") % {"n": len(bars), "total": _number(total)}
    root, _ident = _svg(title, summary, "chart-bars", links=any(b.href for b in bars))
    ET.SubElement(root, "line", {"class": "chart-baseline", "x1": str(LEFT),
                                 "x2": str(WIDTH - RIGHT), "y1": str(TOP + plot_h),
                                 "y2": str(TOP + plot_h)})
    _axis_text(root, 12, TOP + 4, value_label, "start")
    every = max(1, math.ceil(len(bars) / 12))
    for i, bar in enumerate(bars):
        height = bar.value / top_value * (plot_h - 14)
        left = LEFT + i * slot + slot * 0.15
        parent = root
        if bar.href:
            parent = ET.SubElement(root, "a", {
                "href": bar.href, "aria-label": _text(f"{bar.label}: {_number(bar.value)}")})
        rect = ET.SubElement(parent, "rect", {
            "class": "chart-bar", "x": f"{left:.1f}", "y": f"{TOP + plot_h - height:.1f}",
            "width": f"{slot * 0.7:.1f}", "height": f"{height:.1f}"})
        ET.SubElement(rect, "title").text = _text(f"{bar.label}: {_number(bar.value)}")
        _axis_text(parent, left + slot * 0.35, TOP + plot_h - height - 3, _number(bar.value),
                   "middle")
        if i % every == 0:
            _axis_text(root, left + slot * 0.35, HEIGHT - BOTTOM + 16, bar.label, "middle")
    rows = [ChartRow(day=i, value=b.value, low=None, high=None, above=False)
            for i, b in enumerate(bars)]
    return Chart(title=title, svg=_done(root), rows=rows, summary=summary)

"""Server-rendered charts: valid SVG with a title and description, labels escaped, every
reported value in the table, bars that link to their records."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from needlecare.outcomes.charts import BandDay, Bar, Point, bar_chart, symptom_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_a_symptom_chart_is_svg_with_its_title_and_table() -> None:
    chart = symptom_chart([Point(1, 6), Point(4, 5)],
                          [BandDay(d, 0, 7 if d < 3 else 2) for d in range(0, 8)],
                          title="Redness <&> \"quoted\"")
    root = ET.fromstring(chart.svg)
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title").text == "Redness <&> \"quoted\""  # type: ignore[union-attr]
    assert root.get("role") == "img"
    assert [(r.day, r.value, r.above) for r in chart.rows if r.value is not None] == [
        (1, 6, False), (4, 5, True)]
    assert len(root.findall(f"{SVG}circle")) == 2
    assert root.find(f"{SVG}polygon").get("class") == "chart-band"  # type: ignore[union-attr]


def test_a_chart_without_reports_says_so() -> None:
    chart = symptom_chart([], [BandDay(0, 0, 5)], title="Swelling")
    assert chart.summary == "No reports yet."
    ET.fromstring(chart.svg)


@given(st.lists(st.tuples(st.integers(0, 120), st.integers(0, 10)), max_size=30),
       st.text(max_size=40))
def test_any_reports_and_title_make_well_formed_svg(reports: list[tuple[int, int]],
                                                    title: str) -> None:
    chart = symptom_chart([Point(d, v) for d, v in reports],
                          [BandDay(d, 0, 3) for d in range(15)], title=title or "x")
    ET.fromstring(chart.svg)
    assert {r.day for r in chart.rows if r.value is not None} == {d for d, _v in reports}


def test_bars_link_to_their_records() -> None:
    chart = bar_chart([Bar("Jan", 3, "/numbers/records/?metric=sessions&key=a"),
                       Bar("Feb", 0, "")], title="Sessions", value_label="n")
    root = ET.fromstring(chart.svg)
    links = root.findall(f"{SVG}a")
    assert [a.get("href") for a in links] == ["/numbers/records/?metric=sessions&key=a"]
    assert len(root.findall(f".//{SVG}rect")) == 2

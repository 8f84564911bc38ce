"""The course chart: an SVG of values by day over an expected band, and the same as a table.
Pure; any app may call it (photos' recovery chart, outcomes)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from needlecare.course_chart import Band, Series, chart_svg, chart_table

SVG = "{http://www.w3.org/2000/svg}"
BAND = Band("Expected", [(d, 0.0, 8.0 * 0.7 ** d) for d in range(11)])
SERIES = [Series("Redness on photos", [(2, 5.0), (7, 6.5), (9, 4.0)]),
          Series("Pain <b>", [(1, 3.0), (2, None), (3, 1.0)])]


def test_the_svg_is_well_formed_with_the_band_each_point_and_a_title() -> None:
    svg = chart_svg(SERIES, BAND, title="Recovery & redness", y_label="Change in a*",
                    x_label="Days", id_prefix="c1")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Recovery & redness"
    assert len(root.findall(f"{SVG}polygon")) == 1  # the band
    # Five values, a gap (None) drawn as no point.
    assert len(root.findall(f".//{SVG}circle")) == 5
    assert "<b>" not in svg
    assert "Pain &lt;b&gt;" in svg
    assert "style=" not in svg
    assert "<script" not in svg


def test_without_numbers_the_axes_carry_words_only() -> None:
    svg = chart_svg(SERIES[:1], BAND, title="Your redness", y_label="Redness",
                    x_label="Days after your treatment", numbers=False,
                    high_words="more red", low_words="as before")
    texts = [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert "more red" in texts
    assert "as before" in texts
    assert not any(re.search(r"\d", t) for t in texts), texts


def test_the_table_has_a_row_per_day_with_a_value_and_the_band() -> None:
    table = chart_table(SERIES, BAND, day_header="Day", band_headers=("From", "Up to"))
    assert table.headers == ["Day", "Redness on photos", "Pain <b>", "From", "Up to"]
    assert [row[0] for row in table.rows] == ["1", "2", "3", "7", "9"]
    assert table.rows[1] == ["2", "5", "—", "0", "3.9"]

"""Articles are Markdown rendered by markdown-it-py and sanitised by nh3: whatever an editor
(or a pasted text) puts in, readers get no script, no event attribute and no link other than
http, https or mailto."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from needlecare.education.markdown import links, render, sanitise

DANGEROUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="#" onclick="steal()">click</a>',
    "<svg onload=alert(1)></svg>",
    "<iframe src=https://evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "[link](javascript:alert(1))",
    "[link](data:text/html;base64,PHNjcmlwdD4=)",
    "[link](vbscript:msgbox)",
    "![pic](https://tracker.example/pixel.gif)",
    "<details open ontoggle=alert(1)>",
]

_EVENT_ATTRIBUTE = re.compile(r"<[^>]*\son\w+\s*=", re.IGNORECASE)


def test_scripts_are_removed_from_markdown() -> None:
    html = render("Hello\n\n<script>alert('x')</script>\n\n**bold**")
    assert "<script" not in html.lower()
    assert "<strong>bold</strong>" in html


def test_event_attributes_are_removed() -> None:
    for source in DANGEROUS:
        html = render(source)
        assert not _EVENT_ATTRIBUTE.search(html), (source, html)
        assert "<script" not in html.lower()
        assert "<iframe" not in html.lower()
        # A refused link stays as harmless text; no attribute may carry the address.
        assert not re.search(r'(href|src)="\s*(javascript|data|vbscript):', html, re.I), html


def test_raw_html_is_shown_as_text_not_markup() -> None:
    html = render('<b onmouseover="x()">hi</b>')
    assert "<b" not in html
    assert "&lt;b" in html


def test_links_keep_http_https_and_mailto_only() -> None:
    html = render("[a](https://example.org) [b](http://example.org) [c](mailto:x@example.org) "
                  "[d](javascript:alert(1)) [e](ftp://example.org/file)")
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs == ["https://example.org", "http://example.org", "mailto:x@example.org"]
    assert 'rel="noopener noreferrer nofollow"' in html


def test_images_in_the_text_are_dropped() -> None:
    assert "<img" not in render("![pixel](https://tracker.example/p.gif)")


def test_sanitise_alone_strips_what_a_renderer_might_let_through() -> None:
    html = sanitise('<p onclick="x()">a</p><script>b()</script><a href="javascript:c()">d</a>')
    assert html == '<p>a</p><a rel="noopener noreferrer nofollow">d</a>'


def test_links_lists_each_address_once() -> None:
    assert links("[a](https://a.example) and [b](https://a.example) [c](mailto:c@x.test)") \
        == ["https://a.example", "mailto:c@x.test"]


@given(st.lists(st.sampled_from([*DANGEROUS, "text", "**b**", "\n\n", "[ok](https://x.test)",
                                 "<", ">", '"', "=", "on", "click", "java", "script:"]),
                max_size=12), st.text(max_size=40))
def test_no_input_yields_a_script_or_event_handler(parts: list[str], noise: str) -> None:
    html = render("".join(parts) + noise)
    assert "<script" not in html.lower()
    assert not _EVENT_ATTRIBUTE.search(html)
    assert not re.search(r'href="\s*(javascript|data|vbscript):', html, re.IGNORECASE)

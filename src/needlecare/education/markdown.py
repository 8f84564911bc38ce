"""Markdown to safe HTML: markdown-it-py renders (CommonMark, raw HTML turned off), then nh3
(the Ammonia sanitiser) keeps only the tags and attributes an article needs.

Two layers on purpose: with ``html`` off, markdown-it already escapes raw HTML, and its link
validation drops ``javascript:`` and similar addresses; nh3 then enforces the allow-list on
whatever the renderer produced, so a renderer bug or a plugin added later cannot let a
script, an event attribute (``onerror=…``) or a ``data:`` link through. Links may only be
http, https or mailto. Images are not allowed in the text: an article has one image, which
goes through the imaging core's safe intake.
"""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


@functools.cache
def _renderer() -> MarkdownIt:
    # "commonmark" with html off: raw HTML in the source is shown as text, never as markup.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def sanitise(html: str) -> str:
    """Keep only the allowed tags, attributes and link schemes (everything else is dropped;
    the text inside a dropped tag stays, except for script and style, which go whole)."""
    return nh3.clean(html, tags=set(ALLOWED_TAGS), attributes={
        tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer nofollow",
        strip_comments=True)


def render(source: str) -> str:
    """The HTML readers see for ``source`` (Markdown)."""
    return sanitise(_renderer().render(source))


def links(source: str) -> list[str]:
    """The addresses of the links in ``source``, in order, each once."""
    found: list[str] = []
    for token in _renderer().parse(source):
        for child in token.children or ():
            href = child.attrGet("href") if child.type == "link_open" else None
            if isinstance(href, str) and href not in found:
                found.append(href)
    return found

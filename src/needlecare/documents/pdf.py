"""HTML templates to PDF with WeasyPrint, with nothing fetched from anywhere.

The documents carry text that patients and staff typed (names, consent withdrawals). Django
escapes it in the template, and the URL fetcher below refuses every address except files under
the project's static folder and images embedded in the document itself (``data:image/jpeg`` or
``png``, base64: a photo sheet carries its pictures), so a document can never make the server
reach the network or read a file it should not. Fonts are the system's (DejaVu): no
``@font-face``.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string

#: The only folder a document may load a file from (stylesheets, a logo).
STATIC_DIR = Path(settings.BASE_DIR) / "static"


#: An image the document carries in its own markup: nothing is fetched to read it.
_EMBEDDED_IMAGE = re.compile(r"data:(image/(?:jpeg|png));base64,", re.IGNORECASE)


class RefusedFetch(ValueError):
    """A document asked for an address outside the static folder."""


def _allowed_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise RefusedFetch(f"documents fetch nothing from {parts.scheme or 'relative'} URLs")
    path = Path(unquote(parts.path)).resolve()
    if not path.is_relative_to(STATIC_DIR.resolve()):
        raise RefusedFetch("documents load files from the static folder only")
    return path


def weasyprint() -> Any:
    """WeasyPrint, imported on first use: it loads Pango through the system's libraries, and a
    machine without them should still serve every page that is not a PDF (``manage.py check``
    reports the problem, see apps.py)."""
    # Lazy: a heavy library that loads system libraries (see the docstring).
    import weasyprint as module  # type: ignore[import-untyped]

    return module


@functools.cache
def _fetcher_class() -> Any:
    base = getattr(weasyprint().urls, "URLFetcher", None)
    if base is None:
        return None

    class LocalFetcher(base):  # type: ignore[misc,valid-type]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not _EMBEDDED_IMAGE.match(url):
                _allowed_path(url)
            return super().fetch(url, headers)

    return LocalFetcher


def url_fetcher() -> Any:
    """A fetcher that opens files under the static folder and refuses everything else."""
    local = _fetcher_class()
    if local is not None:  # WeasyPrint 68+: fetchers are URLFetcher objects
        return local(allowed_protocols=("file", "data"), allow_redirects=False)

    def fetch(url: str) -> dict[str, Any]:  # older WeasyPrint: a function returning a dict
        embedded = _EMBEDDED_IMAGE.match(url)
        if embedded:
            return {"string": base64.b64decode(url[embedded.end():]),
                    "mime_type": embedded.group(1).lower()}
        path = _allowed_path(url)
        return {"file_obj": io.BytesIO(path.read_bytes()), "redirected_url": url}

    return fetch


def html_to_pdf(html: str) -> bytes:
    """Render a complete HTML document to PDF bytes. The same HTML gives the same bytes."""
    document = weasyprint().HTML(string=html, base_url=STATIC_DIR.as_uri() + "/",
                                 url_fetcher=url_fetcher(), media_type="print")
    pdf: bytes = document.write_pdf()
    return pdf


def warm_up() -> None:
    """Load WeasyPrint and the fonts once, so that the first real document of a long-running
    process (the worker's first aftercare email) does not pay for it: about half a second."""
    with contextlib.suppress(Exception):  # no Pango: the documents check says so elsewhere
        html_to_pdf('<p style="font-family: DejaVu Sans">Needlecare</p>')


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    return html_to_pdf(render_to_string(template_name, context))

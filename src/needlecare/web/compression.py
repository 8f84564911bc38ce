"""Pages (and other ``text/*`` responses) leave the server gzipped; the rest leaves as it is.

On a phone on a slow network the bytes of a page are much of its wait: the patient's home page
(today's aftercare and the check-in form) is about 28 kB of HTML and 4.3 kB gzipped, 140 ms
and 20 ms at 1.6 Mbit/s. Django's ``GZipMiddleware`` does the work, and since Django 4.2 it
mitigates BREACH (guessing a secret in a compressed page from its length) by adding a random
number of bytes to every gzipped response; Django also masks the CSRF token differently in
each response.

Left alone: PDFs, images and other downloads, compressed already (gzipping them again costs CPU
for nothing and drops their Content-Length); and the JSON API, whose clients are programs on
good networks, so its responses' sizes never depend on compression at all. Static files never
reach this middleware: WhiteNoise answers them above it, from copies compressed once.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

COMPRESSIBLE = "text/"


class CompressText(GZipMiddleware):
    def process_response(self, request: HttpRequest,
                         response: HttpResponseBase) -> HttpResponseBase:
        content_type = response.get("Content-Type", "").partition(";")[0].strip().lower()
        if not content_type.startswith(COMPRESSIBLE):
            return response
        return super().process_response(request, response)

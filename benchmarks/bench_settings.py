"""The product's settings with the benchmark's own URLs on top (``bench_urls``).

gunicorn runs the product's WSGI application with ``DJANGO_SETTINGS_MODULE=bench_settings`` and
this folder on ``PYTHONPATH``: the middleware, database options and everything else are the
product's, so the benchmark-only views share the check-in's whole stack. Nothing here is used
outside ``benchmarks/``.
"""

import os
from pathlib import Path

from needlecare.settings import *  # noqa: F403  (the product's settings, unchanged)

ROOT_URLCONF = "bench_urls"

# Static files collected once for several servers (DEBUG is off: pages name them by hash).
if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])

# The benchmark sends many check-ins through each personal link to measure storing them; the
# product's daily limit per link (12) would turn most of them into refusals. The limit's
# check (one count per check-in) still runs and is measured.
PATIENT_CHECKINS_PER_DAY = 1_000_000

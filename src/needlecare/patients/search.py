"""What a patient search asks the database, through an index on either database.

A name matches when every word of the query is found anywhere in the patient's name key
(``needlecare.names.name_key``: case, accents and look-alike letters folded); a phone number
when its digits are found anywhere in the patient's (``Patient.phone_digits``); a date of
birth by equality (the ``clinic, date_of_birth`` index).

"Found anywhere" is served by a trigram index (migration patients 0005). On SQLite, the FTS5
table ``patients_patient_search`` (trigram tokenizer) is asked first for at most BROAD + 1
matching ids: a narrow search then reads and sorts those; a broad one ("robin" in a tenth of
the names) walks the clinic's patients in name order, where a page of matches comes quickly.
On PostgreSQL, ``pg_trgm`` GIN indexes serve ``LIKE '%…%'`` directly. A trigram index needs
three characters: shorter words are checked on the rows the longer ones found (or, when every
word is short, on the clinic's patients in name order, as far as the page reaches).
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection, models

from needlecare import names
from needlecare.patients.models import Patient

#: The shortest text a trigram index can look up.
TRIGRAM = 3
#: On SQLite, more matches than this make a search "broad" (see ``_contains``).
BROAD = 1000
PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-]+$")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
_FTS_TABLE = "patients_patient_search"


def parse_date(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    return None


def _phrase(column: str, text: str) -> str:
    # An FTS5 string: double quotes doubled; the trigram tokenizer matches it anywhere.
    return f'{column} : "{text.replace(chr(34), chr(34) * 2)}"'


def _contains(queryset: models.QuerySet[Patient], column: str, parts: list[str]
              ) -> models.QuerySet[Patient]:
    """Rows whose ``column`` contains every one of ``parts``."""
    indexed = [part for part in parts if len(part) >= TRIGRAM]
    if connection.vendor == "sqlite" and indexed:
        match = " AND ".join(_phrase(column, part) for part in indexed)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT rowid FROM {_FTS_TABLE} WHERE {_FTS_TABLE} MATCH %s "
                           "LIMIT %s", (match, BROAD + 1))
            ids = [row[0] for row in cursor.fetchall()]
        if len(ids) <= BROAD:
            # A narrow search: sorting its few rows by name is quick.
            queryset = queryset.filter(id__in=ids)
            parts = [part for part in parts if len(part) < TRIGRAM]
        # Otherwise the words are common ("robin" in a tenth of 100,000 names): reading every
        # match to sort it costs more than walking the clinic's patients in name order, where
        # the first page of matches comes after a few hundred rows.
    for part in parts:
        queryset = queryset.filter(**{f"{column}__contains": part})
    return queryset


def matching(queryset: models.QuerySet[Patient], query: str
             ) -> tuple[str, models.QuerySet[Patient]]:
    """What kind of search ``query`` is, and the patients of ``queryset`` it finds."""
    if not query:
        return "all", queryset
    day = parse_date(query)
    if day is not None:
        return "date_of_birth", queryset.filter(date_of_birth=day)
    digits = names.phone_digits(query)
    if PHONE_CHARS.match(query) and digits:
        # Leading zeros dropped so 07700 900123 also finds +44 7700 900123.
        return "phone", _contains(queryset, "phone_digits", [digits.lstrip("0") or "0"])
    return "name", _contains(queryset, "name_key", names.name_key(query).split())


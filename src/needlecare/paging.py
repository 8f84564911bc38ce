"""Pages of a list without counting the whole list.

An exact ``COUNT(*)`` over a large table costs as much as reading it, so a page asks for one
row more than it shows: that row only says whether there is a next page. ``Window`` offers
the parts of Django's ``Page`` that the templates use (``number``, ``object_list``,
``has_next``, ``has_previous``, ``has_other_pages``, ``next_page_number``,
``previous_page_number``), but no total and no number of pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: Deeper pages are refused (the last allowed one is shown): an offset this deep reads every
#: row before it, and nobody pages this far; a search narrows faster.
MAX_PAGE = 1000


@dataclass(frozen=True)
class Window(Generic[T]):
    number: int
    object_list: Sequence[T]
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    def __iter__(self) -> Any:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def page_number(page: int | str | None) -> int:
    """The page asked for, 1 for anything that is not a page number."""
    try:
        number = int(page or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def window(rows: Any, page: int | str | None, size: int) -> Window[Any]:
    """One page of an ordered query set (or any sliceable sequence), read with one query."""
    number = page_number(page)
    start = (number - 1) * size
    found = list(rows[start:start + size + 1])
    return Window(number=number, object_list=found[:size], has_next=len(found) > size)


@dataclass(frozen=True)
class Keyset(Generic[T]):
    """One page of a list ordered by a time and the id, reached by where the page starts
    (keyset pagination): the database finds the page through the index whatever its depth,
    where an offset reads every row before it.

    ``older`` and ``newer`` are the cursors of the neighbouring pages (None at the ends), to
    pass back as ``?after=`` and ``?before=``."""

    object_list: Sequence[T]
    older: str | None
    newer: str | None

    @property
    def has_other_pages(self) -> bool:
        return self.older is not None or self.newer is not None

    def __iter__(self) -> Any:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def _cursor(row: Any, field: str) -> str:
    return f"{getattr(row, field).isoformat()}~{row.pk}"


def _parse_cursor(cursor: str | None) -> tuple[dt.datetime, int] | None:
    if not cursor or "~" not in cursor:
        return None
    moment, _sep, pk = cursor.rpartition("~")
    try:
        return dt.datetime.fromisoformat(moment), int(pk)
    except ValueError:
        return None


def keyset(rows: Any, field: str, size: int, *, newest_first: bool = True,
           after: str | None = None, before: str | None = None) -> Keyset[Any]:
    """One page of ``rows`` ordered by ``field`` then id (newest first, or oldest first):
    the first page, the page after the cursor ``after``, or the page before ``before``.
    A cursor that does not parse shows the first page."""
    forward = _parse_cursor(after)
    backward = None if forward else _parse_cursor(before)
    # "Later in the list" is older for a newest-first list, newer for an oldest-first one.
    later, earlier = ("lt", "gt") if newest_first else ("gt", "lt")
    key = (f"-{field}", "-id") if newest_first else (field, "id")
    reverse_key = (field, "id") if newest_first else (f"-{field}", "-id")
    if backward is None:
        if forward is not None:
            moment, pk = forward
            rows = rows.filter(**{f"{field}__{later}e": moment}).exclude(
                **{field: moment, f"id__{earlier}e": pk})
        found = list(rows.order_by(*key)[:size + 1])
        shown = found[:size]
        return Keyset(object_list=shown,
                      older=_cursor(shown[-1], field) if len(found) > size else None,
                      newer=_cursor(shown[0], field) if forward and shown else None)
    moment, pk = backward
    rows = rows.filter(**{f"{field}__{earlier}e": moment}).exclude(
        **{field: moment, f"id__{later}e": pk})
    found = list(rows.order_by(*reverse_key)[:size + 1])
    shown = found[:size][::-1]
    return Keyset(object_list=shown,
                  older=_cursor(shown[-1], field) if shown else None,
                  newer=_cursor(shown[0], field) if len(found) > size else None)

"""Queries compiled to SQL once per process and database, then run with new ids.

Django builds and compiles a queryset's SQL on every evaluation; for the few queries on a hot
path whose shape never changes (the check-in's write transaction) that costs more than running
them. ``CompiledQuery`` compiles its queryset once, with marker ids in the places of the
arguments, and then only substitutes the arguments. Arguments are integer ids: a marker must
come through Django's parameter preparation unchanged to be found again, which only integers
are sure to do on every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import QuerySet

#: Far above any real id, and different from each other, so each argument's places are found.
_MARKER = 7_346_120_000_000_000_000


class CompiledQuery:
    def __init__(self, build: Callable[..., QuerySet[Any]], arguments: int) -> None:
        self._build = build
        self._arguments = arguments
        self._compiled: dict[str, tuple[str, list[Any], list[int | None]]] = {}

    def _compile(self, alias: str) -> tuple[str, list[Any], list[int | None]]:
        markers = [_MARKER + i for i in range(self._arguments)]
        queryset = self._build(*markers)
        sql, params = queryset.query.get_compiler(using=alias).as_sql()
        # For each parameter, which argument it is (None: a constant of the query).
        places = [markers.index(p) if isinstance(p, int) and p in markers else None
                  for p in params]
        missing = set(range(self._arguments)) - {p for p in places if p is not None}
        if missing:
            raise ValueError(f"arguments {sorted(missing)} do not reach the SQL")
        return sql, list(params), places

    def rows(self, *arguments: int, using: str = "default") -> list[tuple[Any, ...]]:
        """The query's rows (tuples, in the queryset's ``values_list`` order)."""
        if len(arguments) != self._arguments:
            raise TypeError(f"expected {self._arguments} arguments, got {len(arguments)}")
        connection = connections[using]
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            compiled = self._compiled[connection.vendor] = self._compile(using)
        sql, constants, places = compiled
        params: Sequence[Any] = [constants[i] if place is None else arguments[place]
                                 for i, place in enumerate(places)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

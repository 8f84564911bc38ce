"""Pure decisions of the outcomes app, tested without a database."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

#: How long after the last invitation day a check-in still answers it (no later day follows
#: to end its window).
LAST_WINDOW_DAYS = 7


def answered_checkin_day(day: int, invitation_days: Sequence[int]) -> int | None:
    """The invitation day a check-in made ``day`` days after the session answers: the latest
    invitation day on or before it, while the next has not come (a check-in the day after an
    invitation, after its reminder, still answers it). None before the first invitation and
    more than ``LAST_WINDOW_DAYS`` after the last."""
    days = sorted(invitation_days)
    if not days or day < days[0] or day >= days[-1] + LAST_WINDOW_DAYS:
        return None
    return max(d for d in days if d <= day)


def depth_overrides(zones: Sequence[tuple[str, Decimal]],
                    depth_ranges: dict[str, Any]) -> int:
    """How many zones were treated deeper than the plan's maximum for them (signing asks
    for the reason, so each is a clinician's override of the depth cap)."""
    return sum(1 for zone, depth in zones
               if zone in depth_ranges and depth > Decimal(str(depth_ranges[zone][1])))


def median_from_counts(counts: Sequence[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how many) pairs: the bounded, aggregated set a
    database returns when it has no median function of its own."""
    ordered = sorted((value, n) for value, n in counts if n > 0)
    total = sum(n for _value, n in ordered)
    if total == 0:
        return None
    wanted = [(total - 1) // 2, total // 2]  # 0-based positions of the middle one or two
    found: list[int] = []
    seen = 0
    for value, n in ordered:
        while len(found) < 2 and wanted[len(found)] < seen + n:
            found.append(value)
        seen += n
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2

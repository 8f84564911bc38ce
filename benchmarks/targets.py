"""What every benchmark shares: the line it prints for each target, and the quick mode.

Each target is one line, ``TARGET <name>: <figure> (target <target>) PASS|MISS``, which
``run_all.py`` collects into the summary at the end of ``make bench``. ``BENCH_QUICK=1`` asks
each benchmark for a smoke run of under a minute (fewer rounds, shorter phases, smaller data):
its figures are printed but mean little.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence


def quick() -> bool:
    return os.environ.get("BENCH_QUICK", "").strip().lower() not in ("", "0", "no", "false")


def target_line(name: str, figure: str, target: str, ok: bool) -> str:
    return f"TARGET {name}: {figure} (target {target}) {'PASS' if ok else 'MISS'}"


def spread(values: Sequence[float], fmt: str = "{:.1f}") -> str:
    """Median and range of several rounds: ``12.3 [11.0–13.9]``."""
    if not values:
        return "n/a"
    median = fmt.format(statistics.median(values))
    if len(values) == 1:
        return median
    return f"{median} [{fmt.format(min(values))}–{fmt.format(max(values))}]"


def machine_load() -> str:
    """What else the machine was doing: figures on a shared machine move with it."""
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"

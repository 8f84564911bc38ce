"""How fast the clinical core is on one core: protocol load, screening and triage throughput.

Run with ``make bench`` (or ``python benchmarks/clinical_engines.py``). Inputs are validated
before timing, because the figure that matters for a clinic's server is the engine itself; the
JSON parsing in front of it is pydantic's and is measured separately as "triage incl. parse".
Each measurement is bounded in time, so the whole run takes a few seconds.

Targets: a fresh protocol load under 200 ms (start-up and every clinic override file), and at
least 20,000 triage evaluations per second (a worklist recomputing thousands of check-ins).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from needlecare.clinical.protocol.loader import load_protocol
from needlecare.clinical.screening import Intake, screen
from needlecare.clinical.session import SessionFacts
from needlecare.clinical.triage import CheckIn, triage
from needlecare.clinical.vocabulary import RED_FLAGS
from targets import quick, target_line

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LOAD_TARGET_MS = 200.0
TRIAGE_TARGET_PER_S = 20_000.0

SESSION = SessionFacts.model_validate({
    "date": "2026-03-16", "deepest_depth_mm": 1.5, "zones": ["cheeks", "chin"],
    "fitzpatrick": 4, "device": "pen", "products": ["hyaluronic_acid"],
})
# Every red flag of the shipped vocabulary answered "no": an unanswered one reads as "yes".
NO_FLAGS = dict.fromkeys(RED_FLAGS, False)


def _at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(SESSION.date + dt.timedelta(days=day), dt.time(hour),
                               tzinfo=dt.UTC)


def triage_vignettes() -> list[CheckIn]:
    """A realistic mix: most check-ins are normal healing; some carry red flags."""
    docs: list[dict[str, Any]] = [
        {  # normal day-2 check-in
            "reported_at": _at(2),
            "symptoms": {"redness": {"severity": 3, "trend": "better"},
                         "swelling": {"severity": 2, "trend": "better"},
                         "tightness": {"severity": 3, "trend": "same"}},
            "red_flags": NO_FLAGS,
        },
        {  # pus and fever on day 3, with yesterday's check-in as history
            "reported_at": _at(3, 20),
            "symptoms": {"redness": {"severity": 6, "trend": "worse"},
                         "pain": {"severity": 5, "trend": "worse"}},
            "red_flags": NO_FLAGS | {"pus_or_yellow_crusts": True, "fever_or_chills": True},
            "note": "Yellow crusts on my cheek and I have a fever.",
            "previous": [{"reported_at": _at(2),
                          "symptoms": {"redness": {"severity": 4, "trend": "better"}},
                          "red_flags": NO_FLAGS}],
        },
        {  # redness still there on day 9: persistent
            "reported_at": _at(9),
            "symptoms": {"redness": {"severity": 3, "trend": "same"}},
            "red_flags": NO_FLAGS,
        },
        {  # missing answers: read as the worst
            "reported_at": _at(1),
            "symptoms": {"redness": {}, "pain": {"severity": 4}},
            "red_flags": {"fever_or_chills": False},
        },
    ]
    return [CheckIn.model_validate({"session": SESSION, **doc}) for doc in docs]


def intake_vignettes() -> list[Intake]:
    example = json.loads((EXAMPLES / "screening-intake.json").read_text(encoding="utf-8"))
    sparse = {"assessed_on": "2026-03-02", "planned_date": "2026-03-09"}
    keloid = example | {"conditions": example["conditions"] | {"keloid_history": True}}
    return [Intake.model_validate(doc) for doc in (example, sparse, keloid)]


def throughput(evaluate: Callable[[Any], object], inputs: Sequence[Any],
               seconds: float) -> float:
    """Evaluations per second over the mix, repeated until ``seconds`` have passed."""
    for item in inputs:  # warm the per-protocol caches, as a long-running server has them
        evaluate(item)
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for item in inputs:
            evaluate(item)
        count += len(inputs)
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def load_times_ms(runs: int, seconds: float) -> list[float]:
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < runs and (not times or time.perf_counter() < deadline):
        start = time.perf_counter()
        load_protocol()  # fresh parse and validation, not the cached default_protocol()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    smoke = quick()
    parser.add_argument("--seconds", type=float, default=0.3 if smoke else 2.0,
                        help="time spent on each throughput measurement (default 2)")
    parser.add_argument("--loads", type=int, default=5 if smoke else 30,
                        help="number of fresh protocol loads (default 30)")
    args = parser.parse_args(argv)

    protocol = load_protocol()
    checkins = triage_vignettes()
    intakes = intake_vignettes()
    raw = [c.model_dump_json(by_alias=True) for c in checkins]

    times = load_times_ms(args.loads, args.seconds * 2)
    load_ms = statistics.median(times)
    screens = throughput(lambda i: screen(i, protocol), intakes, args.seconds)
    triages = throughput(lambda c: triage(c, protocol), checkins, args.seconds)
    parsed = throughput(lambda text: triage(CheckIn.model_validate_json(text), protocol), raw,
                        args.seconds)

    levels = ", ".join(triage(c, protocol).level.value for c in checkins)
    print(f"protocol {protocol.label}; one thread; triage mix: {levels}")
    print(f"protocol load (median of {len(times)}, fresh): {load_ms:8.1f} ms")
    print(f"screening:                         {screens:8,.0f} /s     (no target: a "
          "consultation is screened a few times)")
    print(f"triage:                            {triages:8,.0f} /s")
    print(f"triage incl. JSON parse:           {parsed:8,.0f} /s     (for information)")
    print(target_line("protocol load, fresh", f"{load_ms:.1f} ms",
                      f"< {LOAD_TARGET_MS:.0f} ms", load_ms < LOAD_TARGET_MS))
    print(target_line("triage on one core", f"{triages:,.0f} /s",
                      f">= {TRIAGE_TARGET_PER_S:,.0f} /s", triages >= TRIAGE_TARGET_PER_S))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

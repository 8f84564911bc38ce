"""Load the alternatives file and refuse anything doubtful, naming file, line and place.

Beyond the schema: every code (indication, zone, intake fact, option) is known, every source
resolves, ranges are in order, a risk either applies to everyone (``always``) or names what
triggers it, and [C-low] evidence weighs a risk as "caution" at most, as it drives at most a
precaution in screening.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.protocol.alternatives_schema import RISK_LEVELS, AlternativesFile
from needlecare.clinical.protocol.datafile import (
    Place,
    check_cited,
    check_evidence_matches_sources,
    load_datafile,
)
from needlecare.clinical.protocol.loader import PROTOCOL_DIR
from needlecare.clinical.vocabulary import Evidence

DEFAULT_ALTERNATIVES = PROTOCOL_DIR / "alternatives-2026.1.toml"

#: The comparison is about microneedling; the file must describe it.
ANCHOR_OPTION = "microneedling"

Problem = tuple[Place, str]


@dataclass(frozen=True, eq=False)
class Alternatives:
    """A validated alternatives file. Compared and hashed by identity."""

    data: AlternativesFile
    path: Path

    @property
    def label(self) -> str:
        return f"{self.data.alternatives.name}-{self.data.alternatives.version}"


def load_alternatives(path: Path | str | None = None) -> Alternatives:
    path = Path(path) if path is not None else DEFAULT_ALTERNATIVES
    return Alternatives(load_datafile(path, AlternativesFile, _cross_check), path)


@functools.cache
def default_alternatives() -> Alternatives:
    """The shipped alternatives, loaded once per process."""
    return load_alternatives()


def _cited_entries(a: AlternativesFile) -> Iterator[tuple[Place, object]]:
    for key, option in a.options.items():
        yield ("options", key), option
        for suit_key, suits in option.suits.items():
            yield ("options", key, "suits", suit_key), suits
        yield ("options", key, "downtime"), option.downtime
        yield ("options", key, "sessions"), option.sessions
    for key, rule in a.risks.items():
        yield ("risks", key), rule


def _cross_check(a: AlternativesFile) -> Iterator[Problem]:
    cited = list(_cited_entries(a))
    yield from check_cited(cited, a.bibliography)
    yield from check_evidence_matches_sources(cited, a.bibliography)
    if ANCHOR_OPTION not in a.options:
        yield ("options",), f"the {ANCHOR_OPTION!r} option is missing"
    for key, option in a.options.items():
        place: Place = ("options", key)
        for suit_key, suits in option.suits.items():
            for i, code in enumerate(suits.indications):
                if code not in vocab.INDICATIONS:
                    yield (*place, "suits", suit_key, "indications", i), (
                        f"unknown indication code {code!r}")
            if suits.scar_types and "acne_scars" not in suits.indications:
                yield (*place, "suits", suit_key, "scar_types"), (
                    "scar types describe acne scars; add 'acne_scars' to the indications")
        d, s = option.downtime, option.sessions
        if d.days_min is not None and d.days_max is not None and d.days_min > d.days_max:
            yield (*place, "downtime", "days_min"), f"inverted range {d.days_min}–{d.days_max}"
        if s.min is not None and s.max is not None and s.min > s.max:
            yield (*place, "sessions", "min"), f"inverted range {s.min}–{s.max}"
    for key, rule in a.risks.items():
        place = ("risks", key)
        for i, option_key in enumerate(rule.options):
            if option_key not in a.options:
                yield (*place, "options", i), f"unknown option {option_key!r}"
        if len(set(rule.options)) != len(rule.options):
            yield (*place, "options"), "an option is listed twice"
        for i, fact in enumerate(rule.facts_any):
            if not vocab.is_known_fact(fact):
                yield (*place, "facts_any", i), f"unknown fact {fact!r}"
        for i, zone in enumerate(rule.zones_any):
            if zone not in vocab.ZONES:
                yield (*place, "zones_any", i), f"unknown zone code {zone!r}"
        triggered = bool(rule.facts_any or rule.fitzpatrick_min is not None)
        if rule.always and (triggered or rule.zones_any):
            yield (*place, "always"), "a risk shown to everyone names no trigger"
        if not rule.always and not triggered:
            yield (*place, "facts_any"), (
                "a risk needs a trigger (facts_any or fitzpatrick_min), or always = true")
        if (rule.evidence is Evidence.CITED_LOW
                and RISK_LEVELS.index(rule.level) > RISK_LEVELS.index("caution")):
            yield (*place, "level"), "[C-low] evidence may weigh a risk as 'caution' at most"

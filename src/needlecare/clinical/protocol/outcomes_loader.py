"""Load the outcome-measures file and clinic-loaded questionnaires, refusing anything doubtful.

The same discipline as the protocol: unknown keys, a measure without sources, a source that is
not in the bibliography, an inverted or inconsistent range are errors naming file, line and
place. A clinic that holds a licence for a questionnaire (FACE-Q and similar, which Needlecare
does not ship) loads it from its own TOML file (``load_questionnaire``); it is checked the same
way and then joins the shipped measures (``Outcomes.with_questionnaires``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.protocol.datafile import (
    DataFileError,
    Place,
    check_cited,
    check_evidence_matches_sources,
    load_datafile,
)
from needlecare.clinical.protocol.loader import PROTOCOL_DIR
from needlecare.clinical.protocol.outcomes_schema import (
    Measure,
    OutcomesFile,
    QuestionnaireFile,
)
from needlecare.clinical.protocol.schema import Citation

DEFAULT_OUTCOMES = PROTOCOL_DIR / "outcomes-2026.1.toml"

Problem = tuple[Place, str]


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Validated outcome measures, with any clinic questionnaires joined in. Compared and
    hashed by identity, like a protocol."""

    data: OutcomesFile
    path: Path
    questionnaire_files: tuple[QuestionnaireFile, ...] = ()
    measures: Mapping[str, Measure] = field(init=False)
    bibliography: Mapping[str, Citation] = field(init=False)
    #: Schedule point → measure keys, questionnaires included.
    point_measures: Mapping[str, tuple[str, ...]] = field(init=False)

    def __post_init__(self) -> None:
        measures: dict[str, Measure] = dict(self.data.measures)
        bibliography: dict[str, Citation] = dict(self.data.bibliography)
        points = {key: list(point.measures) for key, point in self.data.schedule.items()}
        problems: list[str] = []
        for file in self.questionnaire_files:
            q = file.questionnaire
            if q.key in measures:
                problems.append(f"questionnaire {q.key!r}: a measure with this key already exists")
                continue
            for key, citation in file.bibliography.items():
                if key in bibliography and bibliography[key] != citation:
                    problems.append(f"questionnaire {q.key!r}: bibliography key {key!r} differs "
                                    "from the one already loaded")
                bibliography.setdefault(key, citation)
            measures[q.key] = q
            for point in q.points:
                points[point].append(q.key)
        if problems:
            raise DataFileError(problems)
        object.__setattr__(self, "measures", MappingProxyType(measures))
        object.__setattr__(self, "bibliography", MappingProxyType(bibliography))
        object.__setattr__(self, "point_measures",
                           MappingProxyType({k: tuple(v) for k, v in points.items()}))

    @property
    def label(self) -> str:
        return f"{self.data.outcomes.name}-{self.data.outcomes.version}"

    def with_questionnaires(self, *questionnaires: QuestionnaireFile) -> Outcomes:
        """These measures plus clinic questionnaires; a clash of keys is refused."""
        return Outcomes(self.data, self.path, (*self.questionnaire_files, *questionnaires))


def load_outcomes(path: Path | str | None = None) -> Outcomes:
    path = Path(path) if path is not None else DEFAULT_OUTCOMES
    return Outcomes(load_datafile(path, OutcomesFile, _cross_check), path)


@functools.cache
def default_outcomes() -> Outcomes:
    """The shipped outcome measures, loaded once per process."""
    return load_outcomes()


def load_questionnaire(path: Path | str, outcomes: Outcomes | None = None) -> QuestionnaireFile:
    """A clinic's licensed questionnaire, checked against the outcome file it joins."""
    outcomes = outcomes if outcomes is not None else default_outcomes()
    schedule = set(outcomes.data.schedule)

    def cross_check(q: QuestionnaireFile) -> Iterator[Problem]:
        info = q.questionnaire
        place: Place = ("questionnaire",)
        yield from check_cited([(place, info)], q.bibliography)
        yield from check_evidence_matches_sources([(place, info)], q.bibliography)
        yield from _check_measure(place, info)
        for i, point in enumerate(info.points):
            if point not in schedule:
                yield (*place, "points", i), f"unknown schedule point {point!r}"
        if info.conversion:
            low, high = _total_range(info)
            missing = [t for t in range(low, high + 1) if t not in info.conversion]
            extra = [t for t in info.conversion if not low <= t <= high]
            if missing:
                yield (*place, "conversion"), (
                    f"no reported score for raw total(s) {_list(missing)}")
            if extra:
                yield (*place, "conversion"), (
                    f"raw total(s) {_list(extra)} outside the possible {low}–{high}")

    return load_datafile(Path(path), QuestionnaireFile, cross_check)


# --- cross-checks ------------------------------------------------------------------------

def _cross_check(p: OutcomesFile) -> Iterator[Problem]:
    cited = list(_cited_entries(p))
    yield from check_cited(cited, p.bibliography)
    yield from check_evidence_matches_sources(cited, p.bibliography)
    for key, measure in p.measures.items():
        place: Place = ("measures", key)
        yield from _check_measure(place, measure)
        if measure.licence or measure.conversion:
            yield (*place, "licence"), (
                "licence and conversion belong in a clinic questionnaire file, not the shipped "
                "measures")
    for key, point in p.schedule.items():
        for i, measure_key in enumerate(point.measures):
            if measure_key not in p.measures:
                yield ("schedule", key, "measures", i), f"unknown measure {measure_key!r}"
        if len(set(point.measures)) != len(point.measures):
            yield ("schedule", key, "measures"), "a measure is listed twice"
        if point.anchor == "first_session" and any(
                p.measures[m].change == "rated" for m in point.measures if m in p.measures):
            yield ("schedule", key, "measures"), (
                "a rating of change cannot be asked before the first session")
    for key in p.measures:
        if not any(key in point.measures for point in p.schedule.values()):
            yield ("measures", key), "is never scheduled"
    inv = p.invitations
    if inv.reminder_after_days >= inv.answer_within_days:
        yield ("invitations", "reminder_after_days"), (
            "the reminder must come before the answer window closes")
    yield from _check_adverse_events(p)


def _cited_entries(p: OutcomesFile) -> Iterator[tuple[Place, object]]:
    yield ("invitations",), p.invitations
    for key, measure in p.measures.items():
        yield ("measures", key), measure
    for key, point in p.schedule.items():
        yield ("schedule", key), point
    yield ("adverse_events", "severity"), p.adverse_events.severity
    for key, kind in p.adverse_events.types.items():
        yield ("adverse_events", "types", key), kind


def _check_measure(place: Place, m: Measure) -> Iterator[Problem]:
    for i, code in enumerate(m.indications):
        if code not in vocab.INDICATIONS:
            yield (*place, "indications", i), f"unknown indication code {code!r}"
    if m.respondent == "patient" and not m.patient:
        yield (*place, "patient"), "a patient-reported measure needs the text the patient reads"
    for key, item in m.items.items():
        here: Place = (*place, "items", key)
        if item.min > item.max:
            yield (*here, "min"), f"inverted range {item.min}–{item.max}"
            continue
        outside = [v for v in item.levels if not item.min <= v <= item.max]
        if outside:
            yield (*here, "levels"), (
                f"level(s) {_list(outside)} outside the range {item.min}–{item.max}")
        missing = [v for v in range(item.min, item.max + 1) if v not in item.levels]
        if item.levels and not item.anchors_only and missing:
            yield (*here, "levels"), (
                f"no label for value(s) {_list(missing)}; label every value or set "
                "anchors_only = true")
        if item.in_total and not item.required:
            yield (*here, "required"), "an item counted in the score must be required"
        if item.anchors_only and not item.levels:
            yield (*here, "anchors_only"), "anchors_only needs at least one labelled value"
    if not any(item.in_total for item in m.items.values()):
        yield (*place, "items"), "at least one item must count towards the score"
    if all(item.min <= item.max for item in m.items.values()):
        low, high = _total_range(m)
        for name, declared, actual in (("total_min", m.total_min, low),
                                       ("total_max", m.total_max, high)):
            if declared is not None and declared != actual:
                yield (*place, name), (
                    f"declared {declared}, but the items' ranges give {actual}")
    if m.change == "rated":
        scored = [item for item in m.items.values() if item.in_total]
        if len(scored) != 1:
            yield (*place, "items"), "a rating of change has exactly one scored item"
        elif m.rated_neutral is None:
            yield (*place, "rated_neutral"), "a rating of change needs its 'no change' value"
        elif not scored[0].min <= m.rated_neutral <= scored[0].max:
            yield (*place, "rated_neutral"), "is outside the item's range"
    elif m.rated_neutral is not None:
        yield (*place, "rated_neutral"), "only a rating of change has a 'no change' value"


def _total_range(m: Measure) -> tuple[int, int]:
    scored = [item for item in m.items.values() if item.in_total]
    return sum(i.min for i in scored), sum(i.max for i in scored)


def _check_adverse_events(p: OutcomesFile) -> Iterator[Problem]:
    sev = p.adverse_events.severity
    grades = sorted(sev.grades)
    if grades != list(range(1, len(grades) + 1)):
        yield ("adverse_events", "severity", "grades"), "grades must be numbered 1, 2, 3, …"
    if sev.serious_from not in sev.grades:
        yield ("adverse_events", "severity", "serious_from"), (
            f"grade {sev.serious_from} is not defined")


def _list(values: list[int]) -> str:
    return ", ".join(str(v) for v in values)


def total_range(m: Measure) -> tuple[int, int]:
    """Lowest and highest possible score (the sum of the scored items' ranges)."""
    return _total_range(m)

"""Loading discipline shared by the protocol's sibling data files (outcome measures, the
alternatives to microneedling, a clinic's licensed questionnaire).

They follow the protocol file's rules and reuse its loader's helpers, so a problem reads the
same everywhere: ``FILE:LINE: dotted.place: message``. Unknown keys are refused by the pydantic
models (``extra="forbid"``); what needs the whole file (sources that resolve, clinic-policy
text that must not claim evidence) is checked here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from needlecare.clinical.common import SourceRef
from needlecare.clinical.protocol.loader import (
    _EVIDENCE_WORDS,
    ProtocolError,
    _describe,
    _Lines,
    _plain,
    _read_toml,
)
from needlecare.clinical.protocol.schema import Citation
from needlecare.clinical.vocabulary import Evidence

#: A sibling data file is refused with the protocol's own error type: callers (the CLI, the
#: start-up check) already report it.
DataFileError = ProtocolError

Place = tuple[object, ...]
Problem = tuple[Place, str]
Model = TypeVar("Model", bound=BaseModel)


def load_datafile(path: Path, model: type[Model],
                  cross_check: Callable[[Model], Iterable[Problem]]) -> Model:
    """Read ``path``, validate it against ``model`` and then ``cross_check``; every problem
    is reported at once, each naming the file, the line and the dotted place."""
    raw, lines = _read_toml(path)
    return validate_datafile(raw, path, lines, model, cross_check)


def validate_datafile(raw: dict[str, Any], path: Path, lines: _Lines, model: type[Model],
                      cross_check: Callable[[Model], Iterable[Problem]]) -> Model:
    try:
        data = model.model_validate(raw)
    except ValidationError as exc:
        raise DataFileError([
            _describe(path, lines, err["loc"], _plain(err)) for err in exc.errors()
        ]) from None
    problems = [_describe(path, lines, place, message) for place, message in cross_check(data)]
    if problems:
        raise DataFileError(problems)
    return data


def check_cited(entries: Iterable[tuple[Place, Any]], bibliography: Mapping[str, Citation],
                patient_fields: tuple[str, ...] = ("patient",)) -> Iterator[Problem]:
    """Every cited entry's sources resolve; clinic-policy [P] text a patient reads never
    presents itself as evidence (the protocol loader's rule, applied to these files)."""
    for place, entry in entries:
        for i, source in enumerate(entry.sources):
            if source not in bibliography:
                yield (*place, "sources", i), f"source {source!r} is not in the bibliography"
        if len(set(entry.sources)) != len(entry.sources):
            yield (*place, "sources"), "a source is cited twice"
        if entry.evidence is Evidence.PRACTICE:
            for field in patient_fields:
                text = getattr(entry, field, "")
                if isinstance(text, str) and _EVIDENCE_WORDS.search(text):
                    yield (*place, field), (
                        "clinic-policy [P] text must not present itself as evidence to patients"
                    )


def check_evidence_matches_sources(entries: Iterable[tuple[Place, Any]],
                                   bibliography: Mapping[str, Citation]) -> Iterator[Problem]:
    """[C] needs a peer-reviewed or regulatory source among its sources."""
    for place, entry in entries:
        kinds = {bibliography[k].kind for k in entry.sources if k in bibliography}
        if entry.evidence is Evidence.CITED and not kinds & {"peer_reviewed", "regulatory"}:
            yield (*place, "evidence"), (
                "[C] needs a peer-reviewed or regulatory source; this entry cites only "
                + ", ".join(sorted(kinds) or ["unknown sources"]))


def source_refs(bibliography: Mapping[str, Citation], keys: Iterable[str]) -> list[SourceRef]:
    return [SourceRef(key=k, citation=bibliography[k].citation, link=bibliography[k].link,
                      kind=bibliography[k].kind) for k in keys]

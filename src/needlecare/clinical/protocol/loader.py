"""Load a protocol file (and an optional clinic override file) and refuse anything doubtful.

Errors name the file, the line and the place (dotted path) so that a clinician editing the
TOML can find the entry. Cross-checks: every code is in the vocabulary, every rule cites
sources that resolve, no range is inverted or overlapping, [C-low] evidence never drives more
than a precaution or a "contact the clinic", and clinic-policy ([P]) patient text never claims
evidence.

Every protocol version ever shipped stays in this folder and loads by its label
(``protocol_by_version("microneedling-2026.1")``), so that a stored result can always be
explained by the rules that produced it. Codes are checked against the vocabulary edition the
protocol names: an older protocol is complete for the codes it knew.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.protocol.schema import (
    COURSE_RULE_CODES,
    AftercareItem,
    ProtocolFile,
    Stage,
)
from needlecare.clinical.vocabulary import Evidence, Level, Verdict

PROTOCOL_DIR = Path(__file__).resolve().parent
DEFAULT_LABEL = "microneedling-2026.2"
DEFAULT_PROTOCOL = PROTOCOL_DIR / f"{DEFAULT_LABEL}.toml"
# Only the treatment protocols: the sibling data files (outcomes-…, alternatives-…) beside
# them have their own loaders and versions.
_LABEL = re.compile(r"microneedling-[0-9][0-9A-Za-z.]*")

# Words that present something as evidence; clinic policy must not use them with patients.
_EVIDENCE_WORDS = re.compile(
    r"\b(stud(y|ies)|research|evidence|proven|clinically|trials?|scientific)\b", re.IGNORECASE
)
_FIELDS_A_CLINIC_MAY_TIGHTEN = {"verdict", "level"}


class ProtocolError(ValueError):
    """A protocol or override file is invalid. ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, eq=False)
class Protocol:
    """A validated protocol, ready for the engines. Compared and hashed by identity."""

    data: ProtocolFile
    path: Path
    overrides_path: Path | None = None

    @property
    def name(self) -> str:
        return self.data.protocol.name

    @property
    def version(self) -> str:
        return self.data.protocol.version

    @property
    def label(self) -> str:
        return f"{self.name}-{self.version}"

    @property
    def vocabulary(self) -> int:
        """The vocabulary edition the protocol was written for."""
        return self.data.protocol.vocabulary


class _Lines:
    """Maps a dotted place in a TOML file to the line that defines it."""

    _HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=")

    def __init__(self, text: str) -> None:
        self._where: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            if header := self._HEADER.match(line):
                table = tuple(p.strip().strip('"') for p in header.group(1).split("."))
                for i in range(1, len(table) + 1):
                    self._where.setdefault(table[:i], number)
            elif key := self._KEY.match(line):
                # A dotted key (``keloid_history.enabled = false``) names nested places.
                dotted = tuple(p.strip() for p in key.group(1).split("."))
                for i in range(1, len(dotted) + 1):
                    self._where.setdefault((*table, *dotted[:i]), number)

    def line_of(self, place: Iterable[object]) -> int | None:
        parts = tuple(str(p) for p in place)
        while parts:
            if parts in self._where:
                return self._where[parts]
            parts = parts[:-1]
        return None


def _describe(path: Path, lines: _Lines, place: Iterable[object], message: str) -> str:
    place = tuple(place)
    line = lines.line_of(place)
    where = f"{path}:{line}" if line else str(path)
    dotted = ".".join(str(p) for p in place) or "(top level)"
    return f"{where}: {dotted}: {message}"


def _read_toml(path: Path) -> tuple[dict[str, Any], _Lines]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProtocolError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError([f"{path}: not valid TOML: {exc}"]) from exc
    return data, _Lines(text)


def load_protocol(path: Path | str | None = None,
                  overrides: Path | str | None = None) -> Protocol:
    """Read, merge clinic overrides into, and validate a protocol file."""
    path = Path(path) if path is not None else DEFAULT_PROTOCOL
    raw, lines = _read_toml(path)
    base = _validate(raw, path, lines)
    overrides_path = Path(overrides) if overrides is not None else None
    if overrides_path is None:
        return Protocol(base, path)
    extra, extra_lines = _read_toml(overrides_path)
    problems = list(_merge_overrides(raw, extra, overrides_path, extra_lines))
    if problems:
        raise ProtocolError(problems)
    merged = _validate(raw, overrides_path, extra_lines)
    return Protocol(merged, path, overrides_path)


@functools.cache
def default_protocol() -> Protocol:
    """The shipped protocol, loaded once per process."""
    return protocol_by_version(DEFAULT_LABEL)


def available_versions() -> list[str]:
    """Labels of every shipped protocol version, oldest first."""
    return sorted((p.stem for p in PROTOCOL_DIR.glob("*.toml") if _LABEL.fullmatch(p.stem)),
                  key=_version_order)


def _version_order(label: str) -> tuple[object, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"[-.]", label))


@functools.cache
def protocol_by_version(label: str) -> Protocol:
    """A shipped protocol version by its label (``"microneedling-2026.1"``), loaded once per
    process, so that stored results can be explained by the rules that produced them."""
    if not _LABEL.fullmatch(label) or not (PROTOCOL_DIR / f"{label}.toml").is_file():
        known = ", ".join(available_versions())
        raise ProtocolError([f"no shipped protocol {label!r}; shipped versions: {known}"])
    protocol = load_protocol(PROTOCOL_DIR / f"{label}.toml")
    if protocol.label != label:
        raise ProtocolError([f"{protocol.path}: names itself {protocol.label!r}, not {label!r}"])
    return protocol


def _validate(raw: dict[str, Any], path: Path, lines: _Lines) -> ProtocolFile:
    try:
        data = ProtocolFile.model_validate(raw)
    except ValidationError as exc:
        raise ProtocolError([
            _describe(path, lines, err["loc"], _plain(err)) for err in exc.errors()
        ]) from None
    problems = [_describe(path, lines, place, message) for place, message in _cross_check(data)]
    if problems:
        raise ProtocolError(problems)
    return data


def _plain(err: Mapping[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "missing":
        return "required key is missing"
    return str(err["msg"])


Place = tuple[object, ...]


def _cross_check(p: ProtocolFile) -> Iterator[tuple[Place, str]]:
    if p.protocol.vocabulary > vocab.EDITION:
        yield (("protocol", "vocabulary"),
               f"vocabulary edition {p.protocol.vocabulary} does not exist yet (latest: "
               f"{vocab.EDITION})")
        return
    yield from _check_cited(p)
    yield from _check_screening(p)
    yield from _check_planning(p)
    yield from _check_aftercare(p)
    yield from _check_recovery(p)
    yield from _check_triage(p)
    yield from _check_photo_redness(p)
    yield from _check_course(p)
    yield from _check_expectations(p)


def _codes(p: ProtocolFile, vocabulary: str) -> frozenset[str]:
    return vocab.codes_in(vocabulary, p.protocol.vocabulary)


def _cited_entries(p: ProtocolFile) -> Iterator[tuple[Place, Any]]:
    yield ("screening", "information"), p.screening.information
    for key, rule in p.screening.rules.items():
        yield ("screening", "rules", key), rule
    yield ("planning", "dark_skin"), p.planning.dark_skin
    for group in ("depth", "sessions", "preparation", "anaesthetic", "results_timeline"):
        for key, entry in getattr(p.planning, group).items():
            yield ("planning", group, key), entry
    yield ("aftercare", "check_ins"), p.aftercare.check_ins
    for key, item in p.aftercare.items.items():
        yield ("aftercare", "items", key), item
    yield ("recovery",), p.recovery
    for group in ("depth_bands", "symptoms", "skin_notes"):
        for key, entry in getattr(p.recovery, group).items():
            yield ("recovery", group, key), entry
    for key, trule in p.triage.rules.items():
        yield ("triage", "rules", key), trule
    if p.photo_redness is not None:
        yield ("photo_redness",), p.photo_redness
        for key, curve in p.photo_redness.curves.items():
            yield ("photo_redness", "curves", key), curve
    if p.course is not None:
        yield ("course",), p.course
        for key, crule in p.course.rules.items():
            yield ("course", "rules", key), crule
    if p.expectations is not None:
        for key, expectation in p.expectations.items.items():
            yield ("expectations", "items", key), expectation


def _check_cited(p: ProtocolFile) -> Iterator[tuple[Place, str]]:
    for place, entry in _cited_entries(p):
        for i, source in enumerate(entry.sources):
            if source not in p.bibliography:
                yield (*place, "sources", i), f"source {source!r} is not in the bibliography"
        if entry.evidence is Evidence.PRACTICE:
            for field in ("patient", "patient_normal", "patient_fading"):
                text = getattr(entry, field, "")
                if isinstance(text, str) and _EVIDENCE_WORDS.search(text):
                    yield (*place, field), (
                        "clinic-policy [P] text must not present itself as evidence to patients"
                    )


def _unknown(codes: Iterable[str], known: Collection[str], what: str,
             place: Place) -> Iterator[tuple[Place, str]]:
    for i, code in enumerate(codes):
        if code not in known:
            yield (*place, i), f"unknown {what} code {code!r}"


def _check_screening(p: ProtocolFile) -> Iterator[tuple[Place, str]]:
    for key, rule in p.screening.rules.items():
        place: Place = ("screening", "rules", key)
        for i, fact in enumerate(rule.facts):
            if not (vocab.is_known_fact(fact, p.protocol.vocabulary)
                    or _is_skin_type_fact(fact)):
                yield (*place, "facts", i), f"unknown fact {fact!r}"
        yield from _unknown(rule.zones_any, _codes(p, "zones"), "zone", (*place, "zones_any"))
        yield from _unknown(rule.devices_any, _codes(p, "devices"), "device",
                            (*place, "devices_any"))
        dated = all(f.split(":")[0] in {"medication", "procedure"} for f in rule.facts)
        if rule.wait_days is not None and not dated:
            yield (*place, "wait_days"), "a waiting period needs dated facts (medication/procedure)"
        if rule.verdict is Verdict.DEFER and rule.wait_days is None and not rule.resolve_when:
            yield (*place, "resolve_when"), "a defer without a waiting period must say when it ends"
        if rule.verdict is Verdict.SUITABLE:
            yield (*place, "verdict"), "a rule that fires must restrict; 'suitable' never fires"
        if rule.evidence is Evidence.CITED_LOW and rule.verdict.rank > (
                Verdict.SUITABLE_WITH_PRECAUTIONS.rank):
            yield (*place, "verdict"), "[C-low] evidence may drive a precaution at most"
    info = p.screening.information
    for i, use in enumerate(info.authorised_uses):
        use_place: Place = ("screening", "information", "authorised_uses", i)
        yield from _unknown(use.indications, _codes(p, "indications"), "indication",
                            (*use_place, "indications"))
        yield from _unknown(use.zones, _codes(p, "zones"), "zone", (*use_place, "zones"))


def _is_skin_type_fact(fact: str) -> bool:
    category, _, code = fact.partition(":")
    return category == "fitzpatrick" and code in vocab.FITZPATRICK


def _check_planning(p: ProtocolFile) -> Iterator[tuple[Place, str]]:
    seen: dict[tuple[str, str], str] = {}
    for key, entry in p.planning.depth.items():
        place: Place = ("planning", "depth", key)
        if entry.zone not in _codes(p, "zones"):
            yield (*place, "zone"), f"unknown zone code {entry.zone!r}"
        yield from _unknown(entry.indications, _codes(p, "indications"), "indication",
                            (*place, "indications"))
        if entry.min_mm > entry.max_mm:
            yield (*place, "min_mm"), f"inverted range {entry.min_mm}–{entry.max_mm} mm"
        for indication in entry.indications:
            pair = (entry.zone, indication)
            if pair in seen:
                yield place, f"overlaps planning.depth.{seen[pair]} for {entry.zone}/{indication}"
            seen[pair] = key
        if entry.evidence is Evidence.CITED_LOW:
            yield (*place, "evidence"), "[C-low] cannot set a depth range"
    for indication in sorted(_codes(p, "indications"), key=list(vocab.INDICATIONS).index):
        if indication not in p.planning.sessions:
            yield ("planning", "sessions"), f"no session plan for indication {indication!r}"
        if not any(indication in e.indications for e in p.planning.depth.values()):
            yield ("planning", "depth"), f"no depth range for indication {indication!r}"
    for key, plan in p.planning.sessions.items():
        place = ("planning", "sessions", key)
        if key not in _codes(p, "indications"):
            yield place, f"unknown indication code {key!r}"
        if plan.sessions_min > plan.sessions_max:
            yield (*place, "sessions_min"), "inverted range: sessions_min above sessions_max"
    for key, prep in p.planning.preparation.items():
        for i, fact in enumerate(prep.when_facts):
            if not vocab.is_known_fact(fact, p.protocol.vocabulary):
                yield ("planning", "preparation", key, "when_facts", i), f"unknown fact {fact!r}"
    for key, an in p.planning.anaesthetic.items():
        if an.minutes_min > an.minutes_max:
            yield ("planning", "anaesthetic", key, "minutes_min"), "inverted range of minutes"


def _check_aftercare(p: ProtocolFile) -> Iterator[tuple[Place, str]]:
    items = list(p.aftercare.items.items())
    for key, item in items:
        place: Place = ("aftercare", "items", key)
        yield from _unknown(item.products_any, _codes(p, "products"), "product",
                            (*place, "products_any"))
        yield from _unknown(item.zones_any, _codes(p, "zones"), "zone", (*place, "zones_any"))
        yield from _unknown(item.devices_any, _codes(p, "devices"), "device",
                            (*place, "devices_any"))
    for i, (key_a, a) in enumerate(items):
        for key_b, b in items[i + 1:]:
            if a.slot == b.slot and _may_apply_together(a, b) and _days_overlap(a, b):
                yield ("aftercare", "items", key_b), (
                    f"overlaps aftercare.items.{key_a} in slot {a.slot!r}: both can apply "
                    "on the same day to the same session"
                )


def _span(lo: float | None, hi: float | None, floor: float, ceil: float) -> tuple[float, float]:
    return (floor if lo is None else lo, ceil if hi is None else hi)


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _may_apply_together(a: AftercareItem, b: AftercareItem) -> bool:
    def shares(x: list[str], y: list[str]) -> bool:
        return not x or not y or bool(set(x) & set(y))

    return (
        _overlap(_span(a.min_depth_mm, a.max_depth_mm, 0, 3),
                 _span(b.min_depth_mm, b.max_depth_mm, 0, 3))
        and _overlap(_span(a.fitzpatrick_min, a.fitzpatrick_max, 1, 6),
                     _span(b.fitzpatrick_min, b.fitzpatrick_max, 1, 6))
        and shares(a.products_any, b.products_any)
        and shares(a.zones_any, b.zones_any)
        and shares(a.devices_any, b.devices_any)
    )


def _days_overlap(a: AftercareItem, b: AftercareItem) -> bool:
    return _overlap(_span(a.from_day, a.to_day, 0, 10**6), _span(b.from_day, b.to_day, 0, 10**6))


def _check_recovery(p: ProtocolFile) -> Iterator[tuple[Place, str]]:
    bands = sorted(p.recovery.depth_bands.items(), key=lambda kv: kv[1].above_mm)
    previous_top = 0.0
    for key, band in bands:
        place: Place = ("recovery", "depth_bands", key)
        if band.above_mm >= band.up_to_mm:
            yield (*place, "above_mm"), "inverted range: above_mm is not below up_to_mm"
        elif band.above_mm < previous_top:
            yield (*place, "above_mm"), "overlaps the band below it"
        elif band.above_mm > previous_top:
            yield (*place, "above_mm"), f"leaves a gap above {previous_top} mm"
        previous_top = max(previous_top, band.up_to_mm)
    if previous_top < 3.0:
        yield ("recovery", "depth_bands"), "bands must reach 3.0 mm"
    if p.recovery.rf_band not in p.recovery.depth_bands:
        yield ("recovery", "rf_band"), f"unknown depth band {p.recovery.rf_band!r}"
    symptoms = _codes(p, "symptoms")
    for code in vocab.SYMPTOMS:
        if code in symptoms and code not in p.recovery.symptoms:
            yield ("recovery", "symptoms"), f"no expected course for symptom {code!r}"
    for key, course in p.recovery.symptoms.items():
        place = ("recovery", "symptoms", key)
        if key not in symptoms:
            yield place, f"unknown symptom code {key!r}"
        if set(course.normal_until) != set(p.recovery.depth_bands):
            yield (*place, "normal_until"), "needs exactly one value per depth band"
        for band_name, last_day in course.normal_until.items():
            if last_day < course.onset_day:
                yield (*place, "normal_until", band_name), "inverted range: ends before onset"
            if course.tolerable_until is not None and course.tolerable_until < last_day:
                yield (*place, "tolerable_until"), "inverted range: ends before the normal course"
        if course.tolerable_severity > course.peak_severity:
            yield (*place, "tolerable_severity"), "is above peak_severity"


_KIND_NEEDS: Mapping[str, tuple[str, ...]] = {
    "red_flag": ("red_flags",),
    "red_flag_with_symptom": ("red_flags", "symptoms", "min_severity"),
    "red_flags_together": ("red_flags", "with_red_flags"),
    "symptom_severity": ("symptoms", "min_severity"),
    "symptom_worsening": ("symptoms",),
    "symptom_persistent": ("symptoms",),
    "symptom_above_expected": ("symptoms",),
    "symptom_expected": ("symptoms",),
    "free_text": ("keywords",),
    "photo_redness": (),
}


def _check_triage(p: ProtocolFile) -> Iterator[tuple[Place, str]]:
    for key, rule in p.triage.rules.items():
        place: Place = ("triage", "rules", key)
        for needed in _KIND_NEEDS[rule.kind]:
            if getattr(rule, needed) in (None, []):
                yield (*place, needed), f"a {rule.kind} rule needs {needed}"
        red_flags, symptoms = _codes(p, "red_flags"), _codes(p, "symptoms")
        yield from _unknown(rule.red_flags, red_flags, "red flag", (*place, "red_flags"))
        yield from _unknown(rule.with_red_flags, red_flags, "red flag",
                            (*place, "with_red_flags"))
        yield from _unknown(rule.symptoms, symptoms, "symptom", (*place, "symptoms"))
        yield from _unknown(rule.devices_any, _codes(p, "devices"), "device",
                            (*place, "devices_any"))
        if rule.with_red_flags and rule.kind != "red_flags_together":
            yield (*place, "with_red_flags"), "only a red_flags_together rule takes with_red_flags"
        if rule.kind == "photo_redness" and p.photo_redness is None:
            yield (*place, "kind"), "a photo_redness rule needs the [photo_redness] table"
        if rule.evidence is Evidence.CITED_LOW and rule.level.rank > Level.CONTACT_CLINIC.rank:
            yield (*place, "level"), "[C-low] evidence may drive 'contact_clinic' at most"
        if rule.kind == "symptom_expected" and rule.level is not Level.EXPECTED:
            yield (*place, "level"), "a symptom_expected rule has level 'expected'"
        if rule.kind != "symptom_expected" and rule.level is Level.EXPECTED:
            yield (*place, "level"), "only symptom_expected rules may have level 'expected'"
    for flag in vocab.RED_FLAGS:
        if flag not in _codes(p, "red_flags"):
            continue
        if not any(flag in r.red_flags for r in p.triage.rules.values()):
            yield ("triage", "rules"), f"red flag {flag!r} has no rule: it would be dropped"
    for level in Level:
        if level not in p.triage.advice:
            yield ("triage", "advice"), f"no advice for level {level.value!r}"


def _check_photo_redness(p: ProtocolFile) -> Iterator[tuple[Place, str]]:
    photo = p.photo_redness
    if photo is None:
        return
    if set(photo.curves) != set(p.recovery.depth_bands):
        yield ("photo_redness", "curves"), "needs exactly one curve per recovery depth band"
    if photo.flag_margin_a < photo.noise_floor_a:
        yield (("photo_redness", "flag_margin_a"),
               "is below the noise floor: a change under the noise floor is not a change")
    redness = p.recovery.symptoms.get("redness")
    if redness is not None:
        fading_ends = max([*redness.normal_until.values(), redness.tolerable_until or 0])
        if photo.from_day <= fading_ends:
            yield (("photo_redness", "from_day"),
                   f"must be after the redness fading window (day {fading_ends})")
    if not any(r.kind == "photo_redness" for r in p.triage.rules.values()):
        yield ("photo_redness",), "no triage rule of kind photo_redness uses it"


def _check_course(p: ProtocolFile) -> Iterator[tuple[Place, str]]:
    if p.course is None:
        return
    for code in COURSE_RULE_CODES:
        if code not in p.course.rules:
            yield ("course", "rules"), f"no entry for the course rule {code!r}"
    for code in p.course.rules:
        if code not in COURSE_RULE_CODES:
            yield ("course", "rules", code), f"unknown course rule {code!r}"


def _check_expectations(p: ProtocolFile) -> Iterator[tuple[Place, str]]:
    exp = p.expectations
    if exp is None:
        return
    if exp.remodelling_until_day <= exp.healing_until_day:
        yield (("expectations", "remodelling_until_day"),
               "inverted range: must be after healing_until_day")
    for stage in get_args(Stage):
        if not any(stage in item.stages for item in exp.items.values()):
            yield ("expectations", "items"), f"no expectation for the stage {stage!r}"


# --- clinic overrides --------------------------------------------------------------------

def _merge_overrides(base: dict[str, Any], extra: dict[str, Any], path: Path,
                     lines: _Lines, place: Place = ()) -> Iterator[str]:
    """Merge ``extra`` into ``base`` in place, yielding a message for each refused change."""
    for key, value in extra.items():
        here = (*place, key)
        if key not in base:
            yield _describe(path, lines, here, "no such entry in the protocol")
            continue
        target = base[key]
        if isinstance(target, dict) and "evidence" in target:
            yield from _override_entry(target, value, path, lines, here)
        elif isinstance(target, dict) and isinstance(value, dict):
            yield from _merge_overrides(target, value, path, lines, here)
        else:
            yield _describe(path, lines, here, "is not clinic-configurable")


def _override_entry(entry: dict[str, Any], changes: object, path: Path, lines: _Lines,
                    place: Place) -> Iterator[str]:
    if not isinstance(changes, dict):
        yield _describe(path, lines, place, "must be a table of fields to change")
        return
    evidence = entry["evidence"]
    for field, value in changes.items():
        here = (*place, field)
        if _is_group(entry.get(field)) and isinstance(value, dict):
            # A table of entries inside a cited table (recovery.symptoms): each entry has its
            # own evidence, so a [P] symptom course stays clinic-configurable.
            yield from _merge_overrides(entry[field], value, path, lines, here)
        elif field in {"evidence", "sources"}:
            yield _describe(path, lines, here, "a clinic cannot change evidence or sources")
        elif field not in entry and field not in {"enabled", "wait_days", "to_day"}:
            yield _describe(path, lines, here, "no such field on this entry")
        elif (evidence == Evidence.PRACTICE.value
              or (field in _FIELDS_A_CLINIC_MAY_TIGHTEN
                  and _is_stricter(field, entry[field], value))
              or (field == "wait_days" and _is_longer_wait(entry.get(field), value))):
            entry[field] = value
        else:
            yield _describe(path, lines, here, (
                f"is backed by cited evidence [{evidence}]; a clinic may make the rule "
                "stricter, never relax or remove it"
            ))


def _is_group(value: object) -> bool:
    """A table whose values are all tables: a group of entries, not a field."""
    return isinstance(value, dict) and bool(value) and all(
        isinstance(v, dict) for v in value.values())


def _is_longer_wait(old: object, new: object) -> bool:
    """A waiting period on cited evidence may grow (the rule fires for longer), never shrink."""
    if not isinstance(new, int) or isinstance(new, bool):
        return False
    return old is None or (isinstance(old, int) and new >= old)


def _is_stricter(field: str, old: object, new: object) -> bool:
    try:
        if field == "verdict":
            return Verdict(str(new)).rank >= Verdict(str(old)).rank
        return Level(str(new)).rank >= Level(str(old)).rank
    except ValueError:
        return False

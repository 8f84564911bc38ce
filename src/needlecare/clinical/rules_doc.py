"""The protocol as a Markdown document that clinicians can review without reading code.

``docs/clinical-rules.md`` is this module's output for the shipped protocol; a test fails when
the two differ, so the reviewed document is always the one the engines run. The output must
not depend on the machine (no paths, no dates other than the protocol's), or it would differ
between checkouts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.alternatives import RISK_LEVEL_MEANING
from needlecare.clinical.protocol.alternatives_loader import default_alternatives
from needlecare.clinical.protocol.alternatives_schema import RiskRule
from needlecare.clinical.protocol.loader import Protocol
from needlecare.clinical.protocol.outcomes_loader import default_outcomes, total_range
from needlecare.clinical.protocol.outcomes_schema import Item, Measure
from needlecare.clinical.protocol.schema import AftercareItem, Citation, TriageRule
from needlecare.clinical.vocabulary import Evidence, Level

REGENERATE = "needlecare rules-doc > docs/clinical-rules.md"

_EVIDENCE_MEANING: Mapping[Evidence, str] = {
    Evidence.CITED: (
        "Cited: stated in a peer-reviewed paper, systematic review, consensus statement or "
        "regulator page. May drive any verdict or triage level. A clinic override may make "
        "it stricter, never relax or remove it."),
    Evidence.CITED_LOW: (
        "Cited, but weak: a case report or small series, an expert quoted in the trade "
        "press, or a drug label quoted second-hand. May drive at most a precaution "
        "(screening) or \"contact the clinic\" (triage), never a depth range; clinicians see "
        "it with a limited-evidence note."),
    Evidence.PRACTICE: (
        "Common practice: found in clinic handouts or consent forms, with no peer-reviewed "
        "source. Shown as clinic policy (patients read \"This is your clinic's policy.\"), "
        "never presented as evidence, and a clinic may change it in its override file."),
}

_LEVEL_MEANING: Mapping[Level, str] = {
    Level.EXPECTED: "normal healing; self-care advice for today",
    Level.CONTACT_CLINIC: "a clinician reviews within one working day",
    Level.URGENT: "same day: the clinic calls back within hours; the patient is told to call now",
    Level.EMERGENCY: "call emergency services now",
}


def render(protocol: Protocol) -> str:
    """The whole document, ending in a newline."""
    sections = (_title, _how_to_read, _screening, _information, _planning, _aftercare,
                _recovery, _triage, _photo_redness, _course, _expectations,
                _outcome_measures, _alternatives, _vocabulary, _bibliography)
    blocks = ["\n".join(lines) for section in sections if (lines := section(protocol))]
    return "\n\n".join(blocks).rstrip("\n") + "\n"


# --- Markdown helpers -----------------------------------------------------------------------

def _cell(value: object) -> str:
    text = "—" if value is None or value == "" else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _code(code: str) -> str:
    return f"`{code}`"


def _codes(codes: Iterable[str]) -> str:
    return ", ".join(_code(c) for c in codes)


def _term(code: str, table: Mapping[str, vocab.Term]) -> str:
    term = table.get(code)
    return f"{term.display} ({_code(code)})" if term else _code(code)


def _terms(codes: Iterable[str], table: Mapping[str, vocab.Term]) -> str:
    return "; ".join(_term(c, table) for c in codes)


def _fact(ref: str) -> str:
    category, _, code = ref.partition(":")
    table = vocab.FACT_CATEGORIES.get(category) or (
        vocab.FITZPATRICK if category == "fitzpatrick" else {})
    term = table.get(code)
    return f"{term.display} ({_code(ref)})" if term else _code(ref)


def _days(first: int, last: int | None) -> str:
    if last is None:
        return f"day {first} on"
    return f"day {first}" if first == last else f"days {first}–{last}"


def _mm(value: float) -> str:
    return f"{value:g}"


def _evidence(tag: Evidence) -> str:
    return tag.value


def _sources(keys: Iterable[str]) -> str:
    return ", ".join(keys)


# --- sections -------------------------------------------------------------------------------

def _title(p: Protocol) -> list[str]:
    info = p.data.protocol
    return [
        f"# Clinical rules: {info.name} {info.version}",
        "",
        f"**{info.title}**. Effective {info.effective.isoformat()}. "
        f"Clinical reference: {info.reference}.",
        "",
        "This document is generated from the protocol file; do not edit it by hand. Edit the "
        f"protocol, then run `{REGENERATE}`.",
        *(["", f"Includes the clinic overrides in `{p.overrides_path.name}`."]
          if p.overrides_path is not None else []),
    ]


def _how_to_read(p: Protocol) -> list[str]:
    lines = [
        "## How to read this document",
        "",
        "Every rule carries an evidence tag and the keys of its sources (listed in the "
        "bibliography at the end). The tag decides what the rule is allowed to do:",
        "",
    ]
    lines += _table(["Tag", "What it means for the system"],
                    [(tag.value, _EVIDENCE_MEANING[tag]) for tag in Evidence])
    lines += [
        "",
        "Values from the clinical reference tagged [V] (recalled from a paper but not re-read) "
        "are never encoded, so no rule here carries that tag.",
        "",
        "Screening verdicts, least to most restrictive: "
        + ", ".join(_code(v.value) for v in vocab.Verdict)
        + ". The overall verdict is the most restrictive rule that fired; an unanswered "
        "question a rule needs keeps the verdict at best `suitable_with_precautions`.",
        "",
        "Triage levels, least to most severe: "
        + "; ".join(f"{_code(level.value)} ({_LEVEL_MEANING[level]})" for level in Level)
        + ". The level is the most severe rule that fired; a missing answer is read as the "
        "worst answer and never lowers the level.",
        "",
        "Days count from the session: day 0 is the day of treatment.",
    ]
    return lines


def _screening(p: Protocol) -> list[str]:
    rules = p.data.screening.rules
    lines = [
        "## Screening rules",
        "",
        "A rule fires when any of its facts is present in the intake. A dated fact (the last "
        "dose of a medication, the date of a procedure) fires while its date plus the waiting "
        "period is after the planned treatment date.",
        "",
    ]
    rows = []
    for key, rule in rules.items():
        fires_on = "; ".join(_fact(f) for f in rule.facts)
        limits = []
        if rule.zones_any:
            limits.append(f"only when treating {_codes(rule.zones_any)}")
        if rule.devices_any:
            limits.append(f"only with device {_codes(rule.devices_any)}")
        if limits:
            fires_on += " (" + "; ".join(limits) + ")"
        if rule.wait_days is not None:
            wait = f"{rule.wait_days} days after {_dated_event(rule.facts)}"
        elif rule.resolve_when:
            wait = f"until {rule.resolve_when}"
        else:
            wait = None
        name = _code(key) + ("" if rule.enabled else " (disabled)")
        rows.append((name, fires_on, _code(rule.verdict.value), wait, _evidence(rule.evidence),
                     _sources(rule.sources)))
    lines += _table(["Rule", "Fires on", "Verdict", "Waiting period / until", "Evidence",
                     "Sources"], rows)
    lines += ["", "### What each screening rule says", ""]
    for key, rule in rules.items():
        lines.append(f"- {_code(key)}: {rule.clinician}")
        if rule.precaution:
            lines.append(f"  - Precaution: {rule.precaution}")
        lines.append(f"  - Patient reads: {rule.patient}")
    return lines


def _dated_event(facts: Sequence[str]) -> str:
    categories = {f.partition(":")[0] for f in facts}
    if categories == {"medication"}:
        return "the last dose"
    if categories == {"procedure"}:
        return "the procedure"
    return "the last dose or procedure"


def _information(p: Protocol) -> list[str]:
    info = p.data.screening.information
    lines = [
        "## Information flags",
        "",
        "Shown with the screening result; they never change the verdict. "
        f"Evidence {_evidence(info.evidence)}; sources: {_sources(info.sources)}.",
        "",
        f"- `under_authorised_age` (younger than {info.minimum_age} on the planned date): "
        f"{info.age_text}",
        f"- `off_label` (an indication and zone outside the uses below): {info.off_label_text}",
        "",
    ]
    lines += _table(["Authorised indications", "Zones"],
                    [(_codes(use.indications), _codes(use.zones))
                     for use in info.authorised_uses])
    return lines


def _planning(p: Protocol) -> list[str]:
    plan = p.data.planning
    cap = plan.dark_skin
    lines = ["## Planning", "", "### Needle depth by zone and indication", ""]
    lines += _table(
        ["Entry", "Zone", "Indications", "Depth (mm)", "Note", "Evidence", "Sources"],
        [(_code(key), _term(d.zone, vocab.ZONES), _codes(d.indications),
          f"{_mm(d.min_mm)}–{_mm(d.max_mm)}", d.note, _evidence(d.evidence),
          _sources(d.sources)) for key, d in plan.depth.items()])
    lines += [
        "",
        f"**Darker-skin cap.** From Fitzpatrick {cap.from_fitzpatrick} up, no depth above "
        f"{_mm(cap.max_mm)} mm. {cap.clinician} Evidence {_evidence(cap.evidence)}; sources: "
        f"{_sources(cap.sources)}.",
        "",
        "### Sessions per indication",
        "",
    ]
    lines += _table(
        ["Indication", "Sessions", "Interval (days)", "Note", "Evidence", "Sources"],
        [(_term(key, vocab.INDICATIONS),
          str(s.sessions_min) if s.sessions_min == s.sessions_max
          else f"{s.sessions_min}–{s.sessions_max}",
          s.interval_days, s.note, _evidence(s.evidence), _sources(s.sources))
         for key, s in plan.sessions.items()])
    lines += ["", "### Preparation", ""]
    lines += _table(
        ["Entry", "Applies when", "Starts", "Clinician", "Patient reads", "Evidence", "Sources"],
        [(_code(key), "; ".join(_fact(f) for f in prep.when_facts) or "every patient",
          f"{prep.stop_days_before} days before" if prep.stop_days_before is not None else None,
          prep.clinician, prep.patient, _evidence(prep.evidence), _sources(prep.sources))
         for key, prep in plan.preparation.items()])
    lines += ["", "### Anaesthetic", ""]
    lines += _table(
        ["Entry", "Minutes", "Clinician", "Patient reads", "Evidence", "Sources"],
        [(_code(key),
          a.minutes_min if a.minutes_min == a.minutes_max else f"{a.minutes_min}–{a.minutes_max}",
          a.clinician, a.patient, _evidence(a.evidence), _sources(a.sources))
         for key, a in plan.anaesthetic.items()])
    lines += ["", "### Results timeline", ""]
    lines += _table(
        ["Entry", "Clinician", "Patient reads", "Evidence", "Sources"],
        [(_code(key), t.clinician, t.patient, _evidence(t.evidence), _sources(t.sources))
         for key, t in plan.results_timeline.items()])
    return lines


def _selectors(item: AftercareItem) -> str:
    parts = []
    if item.min_depth_mm is not None or item.max_depth_mm is not None:
        low = _mm(item.min_depth_mm) if item.min_depth_mm is not None else "any"
        high = _mm(item.max_depth_mm) if item.max_depth_mm is not None else "any"
        parts.append(f"depth {low}–{high} mm")
    if item.fitzpatrick_min is not None or item.fitzpatrick_max is not None:
        parts.append(f"Fitzpatrick {item.fitzpatrick_min or 1}–{item.fitzpatrick_max or 6}")
    if item.products_any:
        parts.append(f"products {_codes(item.products_any)}")
    if item.zones_any:
        parts.append(f"zones {_codes(item.zones_any)}")
    if item.devices_any:
        parts.append(f"devices {_codes(item.devices_any)}")
    return "; ".join(parts) or "every session"


def _aftercare(p: Protocol) -> list[str]:
    after = p.data.aftercare
    lines = [
        "## Aftercare items",
        "",
        f"The plan covers days 0–{after.plan_days}. Items in the same slot are alternatives: "
        "the loader refuses two that could apply to one session on the same day.",
        "",
        f"Every day also reads: {after.call_clinic}",
        "",
        f"Check-in invitations go out on days {', '.join(str(d) for d in after.check_ins.days)} "
        f"at {after.check_ins.invite_at_hour}:00 clinic time, with one reminder "
        f"{after.check_ins.reminder_after_hours} hours later if unanswered. "
        f"{after.check_ins.clinician} Evidence {_evidence(after.check_ins.evidence)}; "
        f"sources: {_sources(after.check_ins.sources)}.",
        "",
    ]
    lines += _table(
        ["Item", "Category", "Slot", "Days", "Applies to", "Patient reads", "Evidence",
         "Sources"],
        [(_code(key), item.category, _code(item.slot), _days(item.from_day, item.to_day),
          _selectors(item), item.patient, _evidence(item.evidence), _sources(item.sources))
         for key, item in after.items.items()])
    return lines


def _recovery(p: Protocol) -> list[str]:
    rec = p.data.recovery
    bands = sorted(rec.depth_bands.items(), key=lambda kv: kv[1].above_mm)
    lines = [
        "## Expected recovery course",
        "",
        "What is normal after a session, by the deepest needle depth used. A symptom is normal "
        "from its onset day to its last normal day, may then linger at a lower severity until "
        "the end of its fading window, and after that is not expected (triage calls it "
        "persistent). Severities are 0–10. A symptom getting worse is acceptable up to the day "
        "shown; after that it counts as worsening. "
        f"Radiofrequency microneedling uses the `{rec.rf_band}` band. "
        f"Evidence {_evidence(rec.evidence)}; sources: {_sources(rec.sources)}.",
        "",
        "### Depth bands",
        "",
    ]
    lines += _table(
        ["Band", "Deepest depth (mm)", "Evidence", "Sources"],
        [(_code(name), f"above {_mm(b.above_mm)}, up to {_mm(b.up_to_mm)}",
          _evidence(b.evidence), _sources(b.sources)) for name, b in bands])
    lines += ["", "### Symptoms", ""]
    band_names = [name for name, _ in bands]
    lines += _table(
        ["Symptom", "Onset day", *(f"Normal until ({name})" for name in band_names),
         "Fading until", "Peak severity", "Fading severity", "Worsening acceptable until",
         "Evidence", "Sources"],
        [(_term(code, vocab.SYMPTOMS), c.onset_day,
          *(f"day {c.normal_until[name]}" if name in c.normal_until else None
            for name in band_names),
          f"day {c.tolerable_until}" if c.tolerable_until is not None else None,
          c.peak_severity,
          c.tolerable_severity if c.tolerable_until is not None else None,
          "never" if c.worsening_ok_until < 0 else f"day {c.worsening_ok_until}",
          _evidence(c.evidence), _sources(c.sources))
         for code, c in rec.symptoms.items()])
    lines += ["", "What the patient reads:", ""]
    for code, c in rec.symptoms.items():
        fading = f" Fading: {c.patient_fading}" if c.patient_fading else ""
        lines.append(f"- {_code(code)}: {c.patient_normal}{fading}")
    lines += ["", "### Skin-type notes", ""]
    lines += _table(
        ["Note", "From Fitzpatrick", "Patient reads", "Evidence", "Sources"],
        [(_code(key), n.fitzpatrick_min, n.patient, _evidence(n.evidence),
          _sources(n.sources)) for key, n in rec.skin_notes.items()])
    return lines


def _triggers(rule: TriageRule) -> str:
    parts = []
    if rule.red_flags:
        parts.append("red flag " + _terms(rule.red_flags, vocab.RED_FLAGS))
    if rule.with_red_flags:
        parts.append("together with any of " + _terms(rule.with_red_flags, vocab.RED_FLAGS))
    if rule.kind == "photo_redness":
        parts.append("photos (see Redness on photos)")
    if rule.symptoms:
        parts.append("symptom " + _codes(rule.symptoms))
    if rule.min_severity is not None:
        parts.append(f"severity ≥ {rule.min_severity}")
    if rule.from_day or rule.to_day is not None:
        parts.append(_days(rule.from_day, rule.to_day))
    if rule.devices_any:
        parts.append(f"only with device {_codes(rule.devices_any)}")
    if rule.keywords:
        parts.append("words " + ", ".join(f"“{k}”" for k in rule.keywords))
    return "; ".join(parts)


_KIND_MEANING: Mapping[str, str] = {
    "red_flag": "a red-flag question answered yes (or left unanswered)",
    "red_flag_with_symptom": "a red flag together with a symptom at or above a severity",
    "red_flags_together": "a red flag together with any of the other red flags listed (each "
                          "answered yes or left unanswered)",
    "symptom_severity": "a symptom at or above a severity",
    "symptom_worsening": "a symptom getting worse after the day its worsening is acceptable",
    "symptom_persistent": "a symptom still present after its expected course",
    "symptom_above_expected": "a symptom more severe than expected on that day",
    "symptom_expected": "a symptom within its expected course",
    "free_text": "the patient's note contains one of the words",
    "photo_redness": "redness measured on photos above the expected band on consecutive photo "
                     "check-ins (see Redness on photos)",
}


def _triage(p: Protocol) -> list[str]:
    tri = p.data.triage
    lines = ["## Triage rules", "", "Rule kinds:", ""]
    lines += [f"- `{kind}`: {meaning}" for kind, meaning in _KIND_MEANING.items()]
    lines += [""]
    lines += _table(
        ["Rule", "Kind", "Triggers", "Level", "Evidence", "Sources"],
        [(_code(key), _code(rule.kind), _triggers(rule), _code(rule.level.value),
          _evidence(rule.evidence), _sources(rule.sources)) for key, rule in tri.rules.items()])
    lines += ["", "### What each triage rule says", ""]
    for key, rule in tri.rules.items():
        lines.append(f"- {_code(key)}: {rule.clinician}")
        lines.append(f"  - Patient reads: {rule.patient}")
    lines += ["", "### Advice per level", "",
              f"For an emergency the first line names {tri.emergency_number_hint}.", ""]
    for level in sorted(tri.advice, key=lambda lv: lv.rank):
        lines.append(f"**{_code(level.value)}** ({_LEVEL_MEANING[level]})")
        lines.append("")
        lines += [f"{i}. {text}" for i, text in enumerate(tri.advice[level].patient, start=1)]
        lines.append("")
    return lines[:-1]


_PHOTO_DAYS = (0, 1, 2, 3, 5, 7, 8, 10, 14)


def _photo_redness(p: Protocol) -> list[str]:
    photo = p.data.photo_redness
    if photo is None:
        return []
    bands = sorted(p.data.recovery.depth_bands.items(), key=lambda kv: kv[1].above_mm)
    lines = [
        "## Redness on photos",
        "",
        "Redness is measured on photos as the change in CIELAB a* from the patient's own "
        "pre-treatment photo of the same view. The expected band on day t after a session runs "
        "from 0 to A·e^(−t/τ) + c, by the recovery depth band of the session. "
        f"Noise floor: a change under {_mm(photo.noise_floor_a)} a* is not a change. "
        f"Persistent redness on photos: on {photo.consecutive_photos} consecutive photo "
        f"check-ins from day {photo.from_day} on (after the redness fading window), each at "
        f"least {_mm(photo.flag_margin_a)} a* above the band. Photos that fail the quality "
        "checks are left out; several photos on one day count once, at their reddest. Photos "
        "can raise a triage level, never lower one. "
        f"{photo.clinician} Evidence {_evidence(photo.evidence)}; sources: "
        f"{_sources(photo.sources)}.",
        "",
    ]
    lines += _table(
        ["Band", "A (a*)", "τ (days)", "c (a*)", "Evidence", "Sources"],
        [(_code(name), _mm(c.peak_a), _mm(c.tau_days), _mm(c.residual_a),
          _evidence(c.evidence), _sources(c.sources))
         for name, _ in bands if (c := photo.curves.get(name)) is not None])
    lines += ["", "Top of the expected band, then the change that counts as above it (a*):", ""]
    rows = []
    for name, _ in bands:
        curve = photo.curves.get(name)
        if curve is None:
            continue
        tops = [curve.peak_a * math.exp(-day / curve.tau_days) + curve.residual_a
                for day in _PHOTO_DAYS]
        rows.append((_code(name), *(f"{top:.1f} / {top + photo.flag_margin_a:.1f}"
                                    for top in tops)))
    lines += _table(["Band", *(f"Day {day}" for day in _PHOTO_DAYS)], rows)
    return lines


def _course(p: Protocol) -> list[str]:
    course = p.data.course
    if course is None:
        return []
    lines = [
        "## Course and booking",
        "",
        "The earliest safe date for the next session is the latest of the first day asked about "
        "and every dated rule below; while a rule without a date holds, no date is offered. "
        f"Without an interval from the plan, {course.default_interval_days} days. An interval "
        f"shorter than the plan's is early; more than {course.late_after_extra_days} days "
        f"longer is late. {course.clinician} Evidence {_evidence(course.evidence)}; sources: "
        f"{_sources(course.sources)}.",
        "",
    ]
    lines += _table(
        ["Rule", "Clinician", "Patient reads", "Evidence", "Sources"],
        [(_code(key), rule.clinician, rule.patient, _evidence(rule.evidence),
          _sources(rule.sources)) for key, rule in course.rules.items()])
    return lines


def _expectations(p: Protocol) -> list[str]:
    exp = p.data.expectations
    if exp is None:
        return []
    lines = [
        "## Expectations by stage",
        "",
        "What the patient's page says to expect. Stages: `booked` (before the first session), "
        f"`healing` (days 0–{exp.healing_until_day} after a session), `remodelling` (days "
        f"{exp.healing_until_day + 1}–{exp.remodelling_until_day}), `after_course`, "
        "`maintenance`. `P` items are clinic policy and never presented as evidence.",
        "",
    ]
    lines += _table(
        ["Item", "Stages", "Topic", "Patient reads", "Clinician", "Evidence", "Sources"],
        [(_code(key), _codes(item.stages), item.topic, item.patient, item.clinician,
          _evidence(item.evidence), _sources(item.sources))
         for key, item in exp.items.items()])
    return lines


def _vocabulary(p: Protocol) -> list[str]:
    edition = p.data.protocol.vocabulary
    lines = [
        "## Controlled vocabulary",
        "",
        "The codes intake forms, check-ins and protocol files use. A protocol that names a code "
        f"not listed here is refused. This protocol uses vocabulary edition {edition}; codes "
        "are never removed, and a code narrowed by a later edition says so in its definition.",
    ]
    for category, table in vocab.VOCABULARIES.items():
        lines += ["", f"### {category.replace('_', ' ').capitalize()}", ""]
        lines += _table(["Code", "Name", "Definition", "Patient wording", "Since edition"],
                        [(_code(t.code), t.display, t.definition, t.patient, t.since)
                         for t in table.values() if t.since <= edition])
    return lines


def _bibliography(p: Protocol) -> list[str]:
    lines = ["## Bibliography", ""]
    lines += _table(["Key", "Citation", "Link", "Kind"],
                    [(_code(key), c.citation, c.link, c.kind)
                     for key, c in sorted(p.data.bibliography.items())])
    return lines


# --- sibling data files: outcome measures and the alternatives --------------------------------
# Rendered from their own shipped files (not from the protocol passed in), each section with
# its own sources table, so that the sections stand apart from the protocol's.

def _sources_table(bibliography: Mapping[str, Citation]) -> list[str]:
    return _table(["Key", "Citation", "Link", "Kind"],
                  [(_code(key), c.citation, c.link, c.kind)
                   for key, c in sorted(bibliography.items())])


def _cited(text: str, evidence: Evidence, sources: Iterable[str]) -> str:
    return f"{text} [{_evidence(evidence)}: {_sources(sources)}]"


_ANCHOR_WORDS: Mapping[str, str] = {
    "first_session": "the first session",
    "each_session": "each later session",
    "last_session": "the last session",
}

_CHANGE_WORDS: Mapping[str, str] = {
    "from_baseline": "against the patient's baseline",
    "rated": "rates change itself",
    "none": "not a measure of change",
}


def _item_range(key: str, item: Item) -> str:
    extra = "" if item.in_total else ", not in the score"
    return f"{_code(key)} {item.min}–{item.max}{extra}"


def _outcome_measures(p: Protocol) -> list[str]:
    outcomes = default_outcomes()
    data = outcomes.data
    info = data.outcomes
    inv = data.invitations
    lines = [
        "## Outcome measures",
        "",
        f"From `{outcomes.path.name}` (**{info.title}**, version {info.version}, effective "
        f"{info.effective.isoformat()}; clinical reference: {info.reference}). A measure's "
        "score is the sum of its items that count towards it; change is shown against the "
        "patient's own baseline, except for a rating of change, which is read directly.",
        "",
        "Licensed questionnaires (FACE-Q, SCARS and FASQoL, DLQI and similar) are not shipped. "
        "A clinic that holds a licence loads the instrument's items from its own TOML file "
        "(format: `examples/clinic-questionnaire.toml`), which is checked like this file "
        "(unknown keys, sources, ranges, a conversion table covering every raw total) and "
        "joins the schedule points it names.",
        "",
    ]
    lines += _table(
        ["Measure", "Name", "Recorded by", "Indications", "Items (range)", "Score",
         "Change", "Evidence", "Sources"],
        [(_code(key), m.name, m.respondent, _codes(m.indications) or "all",
          "; ".join(_item_range(k, i) for k, i in m.items.items()),
          _score(m), _CHANGE_WORDS[m.change], _evidence(m.evidence), _sources(m.sources))
         for key, m in data.measures.items()])
    lines += ["", "### What each measure records", ""]
    for key, m in data.measures.items():
        lines.append(f"- {_code(key)}: {m.what}")
        if m.patient:
            lines.append(f"  - Patient reads: {m.patient}")
        for item_key, item in m.items.items():
            if item.levels:
                labels = "; ".join(f"{v} = {text}" for v, text in sorted(item.levels.items()))
                lines.append(f"  - {item.label} ({_code(item_key)}): {labels}")
            if item.note:
                lines.append(f"  - {item.label}: {item.note}")
        if m.note:
            lines.append(f"  - Note: {m.note}")
    lines += [
        "",
        "### When outcomes are measured",
        "",
        "Dates count from the session named. Measures that do not suit the patient's "
        "indications are left out; patient-reported measures at a point are sent as an "
        f"invitation, open for {inv.answer_within_days} days with one reminder after "
        f"{inv.reminder_after_days} days (evidence {_evidence(inv.evidence)}; sources: "
        f"{_sources(inv.sources)}).",
        "",
    ]
    lines += _table(
        ["Point", "When", "Measures", "Patient reads", "Evidence", "Sources"],
        [(_code(key), f"{pt.offset_days} days after {_ANCHOR_WORDS[pt.anchor]}"
          if pt.offset_days else f"at {_ANCHOR_WORDS[pt.anchor]}",
          _codes(pt.measures), pt.patient, _evidence(pt.evidence), _sources(pt.sources))
         for key, pt in data.schedule.items()])
    sev = data.adverse_events.severity
    lines += [
        "",
        "### Adverse events",
        "",
        f"Severity: {sev.name}; grade {sev.serious_from} and above is reported as serious "
        f"(evidence {_evidence(sev.evidence)}; sources: {_sources(sev.sources)}).",
        "",
    ]
    lines += _table(["Grade", "Label", "Definition"],
                    [(grade, g.label, g.definition) for grade, g in sorted(sev.grades.items())])
    lines += [""]
    lines += _table(["Type", "Label", "What it is", "Evidence", "Sources"],
                    [(_code(key), t.label, t.what, _evidence(t.evidence), _sources(t.sources))
                     for key, t in data.adverse_events.types.items()])
    lines += ["", "### Sources for the outcome measures", ""]
    lines += _sources_table(data.bibliography)
    return lines


def _score(m: Measure) -> str:
    low, high = total_range(m)
    return f"{low}–{high}, {m.better} is better"


def _applies_when(rule: RiskRule) -> str:
    if rule.always:
        return "every patient"
    parts = []
    if rule.facts_any:
        parts.append("; ".join(_fact(f) for f in rule.facts_any))
    if rule.fitzpatrick_min is not None:
        parts.append(f"Fitzpatrick {rule.fitzpatrick_min} or above")
    if rule.zones_any:
        parts.append(f"treating {_codes(rule.zones_any)}")
    return " and ".join(parts)


def _alternatives(p: Protocol) -> list[str]:
    alternatives = default_alternatives()
    data = alternatives.data
    info = data.alternatives
    lines = [
        "## Choosing a treatment: microneedling and its alternatives",
        "",
        f"From `{alternatives.path.name}` (**{info.title}**, version {info.version}, "
        f"effective {info.effective.isoformat()}; clinical reference: {info.reference}). "
        "Each claim is followed by its evidence tag and sources in brackets. The comparison "
        "shows every option, microneedling first; an option the clinic does not offer is "
        "marked \"refer\".",
        "",
    ]
    lines += _table(
        ["Option", "What it is", "Suits", "Downtime", "Sessions"],
        [(f"{o.name} ({_code(key)})" + (", adjunct" if o.kind == "adjunct" else ""),
          _cited(o.patient, o.evidence, o.sources),
          " ".join(_cited(s.clinician + (f" Scar types: {', '.join(s.scar_types)}."
                                         if s.scar_types else "")
                          + f" Indications: {_codes(s.indications)}.", s.evidence, s.sources)
                   for s in o.suits.values()),
          _cited(o.downtime.clinician, o.downtime.evidence, o.downtime.sources),
          _cited(o.sessions.clinician, o.sessions.evidence, o.sessions.sources))
         for key, o in data.options.items()])
    lines += [
        "",
        "### Risks",
        "",
        "A risk is flagged for a patient when everything it depends on holds (\"applies\"), "
        "and also when part of it is unknown but nothing known rules it out (\"possible\", "
        "with the unanswered question named): a missing answer never hides a risk. Levels, "
        "least to most:",
        "",
    ]
    lines += [f"- `{level}`: {meaning}" for level, meaning in RISK_LEVEL_MEANING.items()]
    lines += [""]
    lines += _table(
        ["Risk", "Options", "Applies when", "Level", "Clinician reads", "Evidence", "Sources"],
        [(_code(key), _codes(r.options), _applies_when(r), _code(r.level), r.clinician,
          _evidence(r.evidence), _sources(r.sources)) for key, r in data.risks.items()])
    lines += ["", "What the patient reads:", ""]
    lines += [f"- {_code(key)}: {r.patient}" for key, r in data.risks.items()]
    lines += ["", "### Sources for the alternatives", ""]
    lines += _sources_table(data.bibliography)
    return lines


"""The shipped protocol's content: every entry cited, every source real, tags honoured.

Cross-checks against the clinical reference (``shared/clinical/reference.md``, beside the repo)
and the imaging notes (``shared/imaging.md``, for redness on photos) are skipped when those files
are absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.protocol.loader import DEFAULT_PROTOCOL, default_protocol
from needlecare.clinical.protocol.schema import ProtocolFile
from needlecare.clinical.vocabulary import Evidence, Level, Verdict

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "clinical" / "reference.md"
IMAGING = REFERENCE.parent.parent / "imaging.md"
PRACTICE_KEYS = {"practice_handouts", "general_medicine", "clinic_policy"}

# Words that present a statement as evidence. Independent of the loader's own list on purpose.
EVIDENCE_WORDS = re.compile(
    r"\b(stud(y|ies)|research\w*|evidence|proven|prove[sd]?|clinically|trials?|scientific\w*|"
    r"data|shown to|doctors agree|experts? say)\b",
    re.IGNORECASE,
)
PATIENT_FIELDS = ("patient", "patient_normal", "patient_fading")


def data() -> ProtocolFile:
    return default_protocol().data


def cited_entries(p: ProtocolFile) -> Iterator[tuple[str, Any]]:
    """Every rule-like entry: contraindications, depth ranges, intervals, preparation,
    anaesthetic, results timeline, aftercare items, expected course and triage rules."""
    yield "screening.information", p.screening.information
    for key, rule in p.screening.rules.items():
        yield f"screening.rules.{key}", rule
    yield "planning.dark_skin", p.planning.dark_skin
    for group in ("depth", "sessions", "preparation", "anaesthetic", "results_timeline"):
        for key, entry in getattr(p.planning, group).items():
            yield f"planning.{group}.{key}", entry
    for key, item in p.aftercare.items.items():
        yield f"aftercare.items.{key}", item
    yield "recovery", p.recovery
    for group in ("depth_bands", "symptoms", "skin_notes"):
        for key, entry in getattr(p.recovery, group).items():
            yield f"recovery.{group}.{key}", entry
    for key, trule in p.triage.rules.items():
        yield f"triage.rules.{key}", trule
    if p.photo_redness is not None:
        yield "photo_redness", p.photo_redness
        for key, curve in p.photo_redness.curves.items():
            yield f"photo_redness.curves.{key}", curve
    if p.course is not None:
        yield "course", p.course
        for key, crule in p.course.rules.items():
            yield f"course.rules.{key}", crule
    if p.expectations is not None:
        for key, item in p.expectations.items.items():
            yield f"expectations.items.{key}", item


ENTRIES = dict(cited_entries(data()))


def reference_text() -> str:
    if not REFERENCE.is_file():
        pytest.skip(f"clinical reference not found at {REFERENCE.resolve()} "
                    "(shared/ sits beside the repository)")
    return REFERENCE.read_text(encoding="utf-8")


def reference_bibliography() -> dict[str, str]:
    """Key → table row of the reference's section 9."""
    text = reference_text()
    section = text[text.index("## 9."):]
    return {m.group(1): m.group(0)
            for m in re.finditer(r"^\| `([A-Za-z0-9_]+)` \|.*$", section, re.MULTILINE)}


def reference_weak_sources() -> set[str]:
    text = reference_text()
    section = text[text.index("## 9."):]
    weak = section[section.index("Weak or secondary"):]
    return set(re.findall(r"^\| `([A-Za-z0-9_]+)` \|", weak, re.MULTILINE))


# --- every entry is cited -----------------------------------------------------------------

def test_every_kind_of_rule_like_entry_is_present() -> None:
    prefixes = [
        "screening.rules.", "planning.depth.", "planning.sessions.", "planning.preparation.",
        "planning.anaesthetic.", "planning.results_timeline.", "aftercare.items.",
        "recovery.depth_bands.", "recovery.symptoms.", "recovery.skin_notes.", "triage.rules.",
        "photo_redness.curves.", "course.rules.", "expectations.items.",
    ]
    for prefix in prefixes:
        assert any(place.startswith(prefix) for place in ENTRIES), prefix
    assert len(ENTRIES) > 100


@pytest.mark.parametrize("place", sorted(ENTRIES))
def test_every_entry_has_evidence_and_sources_that_resolve(place: str) -> None:
    entry = ENTRIES[place]
    assert isinstance(entry.evidence, Evidence)
    assert len(entry.sources) >= 1
    assert len(set(entry.sources)) == len(entry.sources), "a source is cited twice"
    for key in entry.sources:
        assert key in data().bibliography, f"{place} cites {key!r}: not in the bibliography"


@pytest.mark.parametrize("place", sorted(ENTRIES))
def test_evidence_never_claims_more_than_its_sources(place: str) -> None:
    """[C] needs a peer-reviewed or regulatory source; practice-only sources mean [P]."""
    entry = ENTRIES[place]
    kinds = {data().bibliography[key].kind for key in entry.sources}
    if entry.evidence is Evidence.CITED:
        assert kinds & {"peer_reviewed", "regulatory"}, f"{place} is [C] on {kinds}"
    if kinds == {"practice"}:
        assert entry.evidence is Evidence.PRACTICE, f"{place} cites only practice"


def test_every_used_source_is_in_the_bibliography() -> None:
    used = {key for entry in ENTRIES.values() for key in entry.sources}
    assert used <= set(data().bibliography)
    assert used >= PRACTICE_KEYS


def test_practice_keys_are_marked_as_practice() -> None:
    bib = data().bibliography
    assert {key for key, c in bib.items() if c.kind == "practice"} == PRACTICE_KEYS


# --- against the clinical reference ------------------------------------------------------

def imaging_text() -> str:
    if not IMAGING.is_file():
        pytest.skip(f"imaging notes not found at {IMAGING.resolve()}")
    return IMAGING.read_text(encoding="utf-8")


def test_every_bibliography_key_is_in_the_reference() -> None:
    """Every source is in the clinical reference's bibliography, or (for redness on photos)
    its identifier appears in the imaging notes."""
    reference_keys = set(reference_bibliography())
    imaging = imaging_text()
    used = {key for entry in ENTRIES.values() for key in entry.sources}
    bib = data().bibliography
    missing = []
    for key in (set(bib) | used) - reference_keys - PRACTICE_KEYS:
        link = bib[key].link if key in bib else ""
        ident = re.search(r"(PMC\d+|PMID \d+|[0-9a-f]{32,40})", link)
        if ident is None or ident.group(1).replace("PMID ", "") not in imaging:
            missing.append(key)
    assert not missing, f"not in reference.md section 9 nor imaging.md: {sorted(missing)}"


def test_the_practice_keys_are_not_literature() -> None:
    assert not PRACTICE_KEYS & set(reference_bibliography())


def test_citation_links_match_the_reference() -> None:
    rows = reference_bibliography()
    for key, citation in data().bibliography.items():
        if key in rows and citation.link:
            assert citation.link in rows[key], f"{key}: {citation.link}"


def test_secondary_sources_are_the_references_weak_sources() -> None:
    weak = reference_weak_sources()
    bib = data().bibliography
    reference_keys = set(reference_bibliography())
    for key, citation in bib.items():
        if key in PRACTICE_KEYS or key not in reference_keys:
            continue
        assert (citation.kind == "secondary") == (key in weak), key


# Verdicts and tags from reference.md §1.1–1.2 (rule → verdict, allowed tags, wait_days range).
REFERENCE_RULES: list[tuple[str, Verdict, set[str], tuple[int, int] | None]] = [
    ("active_skin_infection", Verdict.DEFER, {"C"}, None),
    ("active_cold_sore", Verdict.DEFER, {"C"}, None),
    ("cold_sore_history", Verdict.SUITABLE_WITH_PRECAUTIONS, {"C"}, None),
    ("active_acne", Verdict.DEFER, {"C"}, None),
    ("keloid_history", Verdict.NOT_SUITABLE, {"C"}, None),
    ("immunosuppression", Verdict.NOT_SUITABLE, {"C"}, None),
    ("chemotherapy", Verdict.DEFER, {"P"}, None),
    ("diabetes_uncontrolled", Verdict.SUITABLE_WITH_PRECAUTIONS, {"P"}, None),
    ("bleeding_disorder", Verdict.NOT_SUITABLE, {"P"}, None),
    ("anticoagulant_or_antiplatelet", Verdict.SUITABLE_WITH_PRECAUTIONS, {"P"}, None),
    # [C] + [C-low]: precaution, not not_suitable; "6 months" per the drug guide.
    ("isotretinoin", Verdict.SUITABLE_WITH_PRECAUTIONS, {"C"}, (180, 184)),
    ("pregnancy", Verdict.DEFER, {"P"}, None),
    ("breastfeeding", Verdict.SUITABLE_WITH_PRECAUTIONS, {"P"}, None),
    ("inflammatory_flare", Verdict.DEFER, {"P"}, None),
    ("radiotherapy", Verdict.DEFER, {"P"}, (90, 92)),
    ("suspicious_lesion", Verdict.DEFER, {"P"}, None),
    ("metal_allergy", Verdict.SUITABLE_WITH_PRECAUTIONS, {"C", "C-low"}, None),
    ("anaesthetic_or_product_allergy", Verdict.SUITABLE_WITH_PRECAUTIONS, {"P"}, None),
    ("darker_skin", Verdict.SUITABLE_WITH_PRECAUTIONS, {"C"}, None),
    # reference: [C-low] defer. [C-low] may not drive a defer, so the deferral is policy.
    ("sunburn", Verdict.DEFER, {"P"}, None),
    ("open_wound", Verdict.DEFER, {"P"}, None),
    ("rf_over_metal", Verdict.NOT_SUITABLE, {"P"}, None),
    # §1.2: every interval is [P], within the range seen in handouts.
    ("chemical_peel_light", Verdict.DEFER, {"P"}, (14, 30)),
    ("chemical_peel_medium", Verdict.DEFER, {"P"}, (14, 30)),
    ("laser_or_ipl", Verdict.DEFER, {"P"}, (14, 14)),
    ("botulinum_toxin", Verdict.DEFER, {"P"}, (14, 90)),
    ("dermal_filler", Verdict.DEFER, {"P"}, (14, 365)),
    ("waxing_threading", Verdict.DEFER, {"P"}, (5, 7)),
    # §2.2: at least 4 weeks between dermal-depth sessions, [C].
    ("previous_microneedling", Verdict.DEFER, {"C"}, (28, 28)),
    # Added in 2026.2. §1.2: supplements "to reduce bruising" are not advice, so a precaution.
    ("bleeding_supplement", Verdict.SUITABLE_WITH_PRECAUTIONS, {"P"}, None),
    # §1.1 #13 notes the Koebner risk in vitiligo as common practice.
    ("vitiligo_stable", Verdict.SUITABLE_WITH_PRECAUTIONS, {"P"}, None),
    # Not in the reference: clinic policy, each with its reason in the clinician text.
    ("rf_implanted_device", Verdict.NOT_SUITABLE, {"P"}, None),
    ("unwell_today", Verdict.DEFER, {"P"}, None),
    ("granuloma_history", Verdict.DEFER, {"P"}, None),
    ("oral_retinoid_other", Verdict.SUITABLE_WITH_PRECAUTIONS, {"P"}, (180, 184)),
    ("topical_steroid", Verdict.DEFER, {"P"}, (7, 28)),
    ("antiseptic_allergy", Verdict.SUITABLE_WITH_PRECAUTIONS, {"P"}, None),
    ("tattoo_area", Verdict.SUITABLE_WITH_PRECAUTIONS, {"P"}, None),
]


def test_new_rules_that_are_clinic_policy_say_why() -> None:
    """A rule citing only clinic_policy has no source: its clinician text must give the reason."""
    for key, rule in data().screening.rules.items():
        if "clinic_policy" in rule.sources:
            assert rule.evidence is Evidence.PRACTICE, key
            assert re.search(r"[Cc]linic policy", rule.clinician), key


# Triage levels from reference §4.2 for the rules 2026.2 added or changed.
REFERENCE_TRIAGE: list[tuple[str, Level, set[str]]] = [
    ("rash_widespread", Level.URGENT, {"C"}),  # T4: urgent when spreading fast
    ("rash", Level.CONTACT_CLINIC, {"C"}),  # T4: at the treated site
    ("weeping_after_day0", Level.CONTACT_CLINIC, {"C"}),  # T4: weeping at the treated site
    ("faint_with_skin_or_breathing_sign", Level.EMERGENCY, {"P"}),  # T11
    ("warmth_increasing", Level.URGENT, {"P"}),  # T6: increasing warmth
    ("pain_worsening_early", Level.URGENT, {"P"}),  # T10: getting worse rather than better
    ("pain_worsening_after_48h", Level.URGENT, {"P"}),  # T6/T10
    ("persistent_photo_redness", Level.CONTACT_CLINIC, {"P"}),  # issue 11: policy
]


@pytest.mark.parametrize(("rule_id", "level", "tags"),
                         [pytest.param(*row, id=row[0]) for row in REFERENCE_TRIAGE])
def test_triage_rule_matches_the_reference(rule_id: str, level: Level, tags: set[str]) -> None:
    rule = data().triage.rules[rule_id]
    assert rule.level is level
    assert rule.evidence.value in tags


def test_faintness_is_an_emergency_with_any_skin_or_breathing_sign() -> None:
    rule = data().triage.rules["faint_with_skin_or_breathing_sign"]
    assert rule.red_flags == ["faint_or_dizzy"]
    assert {"hives_or_rash", "rash_widespread", "breathing_or_throat_swelling"} <= set(
        rule.with_red_flags)


def test_clear_ooze_is_not_bleeding() -> None:
    rules = data().triage.rules
    assert "weeping" not in rules["rebleeding"].symptoms
    assert "clear" not in vocab.SYMPTOMS["pinpoint_bleeding"].patient
    assert "weeping" in rules["weeping_after_day0"].symptoms


def test_the_daily_call_line_names_severe_pain_and_redness_after_a_week() -> None:
    line = data().aftercare.call_clinic
    assert "severe pain" in line
    assert "redness that has not faded after a week" in line
    assert "feeling faint" in line


# Each precaution starts by naming what it is about, wherever it is shown.
PRECAUTION_SUBJECTS = {
    "cold_sore_history": "Cold-sore history",
    "diabetes_uncontrolled": "Uncontrolled diabetes",
    "anticoagulant_or_antiplatelet": "Anticoagulant or antiplatelet",
    "nsaid": "Regular NSAIDs",
    "isotretinoin": "Isotretinoin",
    "breastfeeding": "Breastfeeding",
    "metal_allergy": "Metal (nickel) allergy",
    "anaesthetic_or_product_allergy": "Allergy to a topical anaesthetic",
    "darker_skin": "Fitzpatrick IV–VI",
    "pih_or_melasma": "History of PIH or melasma",
    "photosensitising_drug": "Photosensitising drug",
    "autoimmune_disease": "Autoimmune",
    "oral_retinoid_other": "Oral retinoid other than isotretinoin",
    "bleeding_supplement": "Supplements that affect bleeding",
    "antiseptic_allergy": "Allergy to the skin antiseptic",
    "tattoo_area": "Tattoo or permanent make-up",
    "vitiligo_stable": "Stable vitiligo",
}


def test_every_precaution_names_its_subject() -> None:
    with_precaution = {key: rule.precaution for key, rule in data().screening.rules.items()
                       if rule.precaution}
    assert set(with_precaution) == set(PRECAUTION_SUBJECTS)
    for key, text in with_precaution.items():
        assert text.startswith(PRECAUTION_SUBJECTS[key] + ":") or text.startswith(
            PRECAUTION_SUBJECTS[key] + " "), (key, text)


@pytest.mark.parametrize(("rule_id", "verdict", "tags", "wait"),
                         [pytest.param(*row, id=row[0]) for row in REFERENCE_RULES])
def test_screening_rule_matches_the_reference(rule_id: str, verdict: Verdict, tags: set[str],
                                              wait: tuple[int, int] | None) -> None:
    rule = data().screening.rules[rule_id]
    assert rule.verdict is verdict
    assert rule.evidence.value in tags
    assert rule.enabled
    if wait is None:
        assert rule.wait_days is None
    else:
        assert rule.wait_days is not None
        assert wait[0] <= rule.wait_days <= wait[1]


def test_isotretinoin_cites_both_the_consensus_and_the_label() -> None:
    rule = data().screening.rules["isotretinoin"]
    assert set(rule.sources) == {"spring2017", "isotretinoin_label"}
    assert "spring2017" in rule.clinician
    assert "isotretinoin_label" in rule.clinician


def test_darker_skin_means_fitzpatrick_four_to_six() -> None:
    assert data().screening.rules["darker_skin"].facts == [
        "fitzpatrick:4", "fitzpatrick:5", "fitzpatrick:6"]
    assert data().planning.dark_skin.from_fitzpatrick == 4


def test_the_fda_age_and_uses_are_information() -> None:
    info = data().screening.information
    assert info.minimum_age == 22
    assert info.sources == ["fda_mn"]
    assert "not a contraindication" in info.age_text
    assert "not a contraindication" in info.off_label_text


def test_recovery_course_matches_the_reference() -> None:
    """Day 0–3 normal, 4–7 tolerable, more than 7 days is prolonged (§0.3, §3.1)."""
    redness = data().recovery.symptoms["redness"]
    assert redness.normal_until["medium"] == 3
    assert redness.tolerable_until == 7
    assert data().recovery.symptoms["swelling"].tolerable_until == 7


def test_next_session_is_four_weeks_away() -> None:
    assert data().aftercare.items["next_session"].from_day == 28
    for key, plan in data().planning.sessions.items():
        if key != "hair_loss":  # weekly alopecia protocols are the documented exception
            assert plan.interval_days >= 28, key


def test_depths_never_exceed_the_deepest_trial() -> None:
    assert max(d.max_mm for d in data().planning.depth.values()) <= 2.5


def test_preparation_never_tells_a_patient_to_stop_blood_thinners_or_nsaids() -> None:
    """Reference §1.1 #9 and §1.2: never advise stopping anticoagulants; NSAIDs not advice."""
    protected = {"medication:anticoagulant", "medication:antiplatelet", "medication:nsaid"}
    for key, prep in data().planning.preparation.items():
        if prep.stop_days_before is not None:
            assert not protected & set(prep.when_facts), key
    assert "Keep taking" in data().planning.preparation["keep_anticoagulants"].patient


def test_the_unverified_400_percent_claim_is_not_shown() -> None:
    """Reference §0.4: "up to 400 %" is [V] and must not be shown to patients."""
    assert "400" not in DEFAULT_PROTOCOL.read_text(encoding="utf-8")


# --- tag rules ------------------------------------------------------------------------------

@pytest.mark.parametrize("place", sorted(p for p, e in ENTRIES.items()
                                         if e.evidence is Evidence.CITED_LOW))
def test_weak_evidence_drives_a_precaution_or_contact_clinic_at_most(place: str) -> None:
    entry = ENTRIES[place]
    if place.startswith("screening.rules."):
        assert entry.verdict.rank <= Verdict.SUITABLE_WITH_PRECAUTIONS.rank
    if place.startswith("triage.rules."):
        assert entry.level.rank <= Level.CONTACT_CLINIC.rank
    assert not place.startswith("planning.depth."), "[C-low] cannot set a depth range"


def test_weak_evidence_caps_hold_over_the_whole_protocol() -> None:
    p = data()
    for key, rule in p.screening.rules.items():
        if rule.evidence is Evidence.CITED_LOW:
            assert rule.verdict.rank <= Verdict.SUITABLE_WITH_PRECAUTIONS.rank, key
    for key, trule in p.triage.rules.items():
        if trule.evidence is Evidence.CITED_LOW:
            assert trule.level.rank <= Level.CONTACT_CLINIC.rank, key


POLICY_TEXTS = sorted(
    (place, field)
    for place, entry in ENTRIES.items() if entry.evidence is Evidence.PRACTICE
    for field in PATIENT_FIELDS if getattr(entry, field, "")
)


@pytest.mark.parametrize(("place", "field"), POLICY_TEXTS)
def test_clinic_policy_patient_text_never_claims_evidence(place: str, field: str) -> None:
    text = getattr(ENTRIES[place], field)
    match = EVIDENCE_WORDS.search(text)
    assert match is None, f"{place}.{field} says {match.group(0)!r}: {text}"


def test_there_is_clinic_policy_text_to_check() -> None:
    assert len(POLICY_TEXTS) > 40


# --- vocabulary ------------------------------------------------------------------------------

REQUIRED_CODES: dict[str, set[str]] = {
    "conditions": {
        "active_skin_infection", "active_cold_sore", "cold_sore_history", "active_acne",
        "keloid_history", "immunosuppression", "diabetes_controlled", "diabetes_uncontrolled",
        "bleeding_disorder", "pregnancy", "breastfeeding", "eczema_flare", "psoriasis_flare",
        "rosacea_active", "vitiligo_active", "autoimmune_disease", "suspicious_lesion",
        "sunburn", "open_wound", "metal_implants_area", "melasma", "pih_history",
        "implanted_device", "unwell_today", "granuloma_history", "tattoo_area", "vitiligo_stable",
    },
    "medications": {
        "isotretinoin", "anticoagulant", "antiplatelet", "nsaid", "topical_retinoid",
        "systemic_immunosuppressant", "chemotherapy", "photosensitising_drug",
        "topical_steroid", "oral_retinoid_other", "bleeding_supplement",
    },
    "procedures": {
        "chemical_peel_light", "chemical_peel_medium", "chemical_peel_deep", "laser_ablative",
        "laser_non_ablative", "ipl", "dermal_filler", "botulinum_toxin", "microneedling",
        "waxing_threading", "facial_surgery", "radiotherapy_area",
    },
    "allergies": {"local_anaesthetic", "nickel", "product_ingredient", "antiseptic"},
    "symptoms": {"redness", "swelling", "pinpoint_bleeding", "pain", "warmth", "weeping",
                 "scabs"},
    "red_flags": {"hives_or_rash", "rash_widespread", "faint_or_dizzy", "pale_or_white_patches",
                  "breathing_or_throat_swelling", "pus_or_yellow_crusts"},
    "zones": {"forehead", "periorbital", "nose", "cheeks", "perioral", "chin", "jawline", "neck",
              "decolletage", "scalp", "body"},
    "indications": {"acne_scars", "fine_lines", "texture_pores", "dyschromia_melasma",
                    "stretch_marks", "surgical_scars", "hair_loss"},
    "devices": {"pen", "roller", "stamp", "rf"},
    "fitzpatrick": {"1", "2", "3", "4", "5", "6"},
}


@pytest.mark.parametrize("vocabulary", sorted(REQUIRED_CODES))
def test_the_vocabulary_has_every_required_code(vocabulary: str) -> None:
    missing = REQUIRED_CODES[vocabulary] - set(vocab.VOCABULARIES[vocabulary])
    assert not missing, f"{vocabulary} lacks {sorted(missing)}"


@pytest.mark.parametrize("vocabulary", sorted(vocab.VOCABULARIES))
def test_every_term_is_worded_for_clinicians_and_patients(vocabulary: str) -> None:
    for code, term in vocab.VOCABULARIES[vocabulary].items():
        assert term.code == code
        assert re.fullmatch(r"[a-z0-9_]+", code), code
        for wording in (term.display, term.definition, term.patient):
            assert wording.strip(), code


def test_codes_added_after_the_first_edition_say_so() -> None:
    added = {code for table in vocab.VOCABULARIES.values() for code, term in table.items()
             if term.since > 1}
    assert {"faint_or_dizzy", "weeping", "implanted_device", "antiseptic"} <= added
    assert all(term.since <= vocab.EDITION for table in vocab.VOCABULARIES.values()
               for term in table.values())


def test_the_face_zones_are_zones() -> None:
    assert set(vocab.ZONES) >= vocab.FACE_ZONES


# Intake questions that no rule tests, each with the reason it is still asked.
RECORDED_ONLY = {
    # Reference §1.1 #7 lists only *uncontrolled* diabetes; the controlled answer is recorded.
    "condition:diabetes_controlled",
}


def test_every_intake_question_is_used_by_a_rule() -> None:
    p = data()
    used = {fact for rule in p.screening.rules.values() for fact in rule.facts}
    used |= {fact for prep in p.planning.preparation.values() for fact in prep.when_facts}
    asked = {f"{category}:{code}" for category, table in vocab.FACT_CATEGORIES.items()
             for code in table}
    assert asked - used == RECORDED_ONLY

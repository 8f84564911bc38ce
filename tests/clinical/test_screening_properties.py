"""Properties of screening over generated intakes, for the shipped protocol and for a stricter
clinic configuration (an isotretinoin deferral, longer policy waits, a rule switched off).

1. Adding a contraindication never makes the verdict less restrictive.
2. Removing an answer (a "no", a date, the skin type, the zones or the device) never makes the
   verdict less restrictive.
3. ``defer_until`` is never on or before the planned date.
4. Every reason cites sources that resolve in the protocol's bibliography.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.common import CLINIC_POLICY_NOTE, basis_of
from needlecare.clinical.protocol.loader import Protocol, default_protocol, load_protocol
from needlecare.clinical.screening import (
    Information,
    Intake,
    Reason,
    ScreeningResult,
    screen,
)
from needlecare.clinical.vocabulary import Evidence, Verdict

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])
# For properties that check every question of each drawn intake (up to ~150 screenings each).
EVERY_QUESTION_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=60)

STRICT_CLINIC = """
[screening.rules.isotretinoin]
verdict = "defer"
wait_days = 182

[screening.rules.botulinum_toxin]
wait_days = 90

[screening.rules.anticoagulant_or_antiplatelet]
wait_days = 7

[screening.rules.breastfeeding]
enabled = false
"""


@pytest.fixture(scope="module", params=["shipped", "strict_clinic"])
def protocol(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Protocol:
    if request.param == "shipped":
        return default_protocol()
    path: Path = tmp_path_factory.mktemp("clinic") / "clinic.toml"
    path.write_text(STRICT_CLINIC, encoding="utf-8")
    return load_protocol(overrides=path)


# --- strategies ------------------------------------------------------------------------------

SECTIONS = {
    "conditions": sorted(vocab.CONDITIONS),
    "medications": sorted(vocab.MEDICATIONS),
    "procedures": sorted(vocab.PROCEDURES),
    "allergies": sorted(vocab.ALLERGIES),
}
QUESTIONS = [(section, code) for section, codes in SECTIONS.items() for code in codes]
DATED_QUESTIONS = [q for q in QUESTIONS if q[0] in ("medications", "procedures")]


def _past(assessed: dt.date) -> st.SearchStrategy[dt.date]:
    return st.integers(0, 400).map(lambda n: assessed - dt.timedelta(days=n))


def _answer(section: str, assessed: dt.date) -> st.SearchStrategy[Any]:
    if section == "medications":
        stopped = st.builds(lambda d: {"current": False, "last_dose": d},
                            st.none() | _past(assessed))
        return st.booleans() | stopped | st.just({"current": True})
    if section == "procedures":
        return st.booleans() | _past(assessed)
    return st.booleans()


@st.composite
def intake_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly-answered intakes: every question "no" except a few answers and a few blanks,
    so that "suitable" and every stricter verdict are all reachable."""
    assessed = draw(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)))
    fields: dict[str, Any] = {
        "assessed_on": assessed,
        "planned_date": assessed + dt.timedelta(days=draw(st.integers(0, 200))),
        "date_of_birth": draw(st.none() | st.dates(dt.date(1940, 1, 1), assessed)),
        "fitzpatrick": draw(st.none() | st.integers(1, 6)),
        "indications": draw(st.lists(st.sampled_from(sorted(vocab.INDICATIONS)), unique=True,
                                     max_size=2)),
        "zones": draw(st.lists(st.sampled_from(sorted(vocab.ZONES)), unique=True, max_size=3)),
        "device": draw(st.none() | st.sampled_from(sorted(vocab.DEVICES))),
    }
    for section, codes in SECTIONS.items():
        fields[section] = dict.fromkeys(codes, False)
    for section, code in draw(st.sets(st.sampled_from(QUESTIONS), max_size=3)):
        del fields[section][code]  # left blank
    answered = st.sampled_from(QUESTIONS).flatmap(
        lambda q: st.tuples(st.just(q), _answer(q[0], assessed)))
    for (section, code), answer in draw(st.lists(answered, max_size=3)):
        fields[section][code] = answer
    return fields


def screened(fields: dict[str, Any], protocol: Protocol) -> ScreeningResult:
    return screen(Intake.model_validate(fields), protocol)


def with_answer(fields: dict[str, Any], where: str, code: str | None, answer: Any
                ) -> dict[str, Any]:
    """A copy of ``fields`` with one answer changed; ``code=None`` sets a top-level field and
    ``answer=BLANK`` leaves a question out."""
    changed = {k: dict(v) if isinstance(v, dict) else v for k, v in fields.items()}
    if code is None:
        changed[where] = answer
    elif answer is BLANK:
        changed[where].pop(code, None)
    else:
        changed[where][code] = answer
    return changed


BLANK = object()


def assert_not_relaxed(stricter: ScreeningResult, laxer: ScreeningResult, what: str) -> None:
    assert stricter.verdict.rank >= laxer.verdict.rank, (
        f"{what}: {stricter.verdict.value} is less restrictive than {laxer.verdict.value}")


# --- 1. adding a contraindication ----------------------------------------------------------
# Each example checks every question of the drawn intake, so a single odd question cannot hide
# behind the odds of being drawn.

@EVERY_QUESTION_SETTINGS
@given(fields=intake_fields(), data=st.data())
def test_adding_a_contraindication_never_relaxes_the_verdict(
        protocol: Protocol, fields: dict[str, Any], data: st.DataObject) -> None:
    """A "yes" screens at least as strictly as a "no" or a blank on the same question."""
    when = data.draw(_past(fields["assessed_on"]), label="procedure date")
    for section, code in QUESTIONS:
        yes = screened(with_answer(fields, section, code, True), protocol)
        no = screened(with_answer(fields, section, code, False), protocol)
        blank = screened(with_answer(fields, section, code, BLANK), protocol)
        assert_not_relaxed(yes, no, f"{section}.{code}: yes vs no")
        assert_not_relaxed(yes, blank, f"{section}.{code}: yes vs blank")
        if section == "procedures":  # "no" becomes "yes, on this date"
            dated = screened(with_answer(fields, section, code, when), protocol)
            assert_not_relaxed(dated, no, f"{section}.{code}: {when} vs no")


@PROPERTY_SETTINGS
@given(fields=intake_fields(), skin_type=st.integers(4, 6))
def test_darker_skin_never_relaxes_the_verdict(protocol: Protocol, fields: dict[str, Any],
                                               skin_type: int) -> None:
    after = with_answer(fields, "fitzpatrick", None, skin_type)
    assert_not_relaxed(screened(after, protocol), screened(fields, protocol), "fitzpatrick")


@EVERY_QUESTION_SETTINGS
@given(fields=intake_fields(), data=st.data())
def test_stopping_a_medication_later_never_relaxes_the_verdict(
        protocol: Protocol, fields: dict[str, Any], data: st.DataObject) -> None:
    """Taking it now is at least as strict as having stopped it on any date."""
    last_dose = data.draw(_past(fields["assessed_on"]), label="last dose")
    for code in SECTIONS["medications"]:
        stopped = with_answer(fields, "medications", code,
                              {"current": False, "last_dose": last_dose})
        current = with_answer(fields, "medications", code, True)
        assert_not_relaxed(screened(current, protocol), screened(stopped, protocol), code)


# --- 2. removing an answer -----------------------------------------------------------------

@EVERY_QUESTION_SETTINGS
@given(fields=intake_fields())
def test_removing_a_no_never_relaxes_the_verdict(protocol: Protocol,
                                                 fields: dict[str, Any]) -> None:
    """A "no" turned into "not answered" screens at least as strictly."""
    for section, code in QUESTIONS:
        answered = screened(with_answer(fields, section, code, False), protocol)
        blank = screened(with_answer(fields, section, code, BLANK), protocol)
        assert_not_relaxed(blank, answered, f"{section}.{code}")


@EVERY_QUESTION_SETTINGS
@given(fields=intake_fields(), data=st.data())
def test_forgetting_a_date_never_relaxes_the_verdict(
        protocol: Protocol, fields: dict[str, Any], data: st.DataObject) -> None:
    """A last dose or procedure date turned into "yes, date unknown" screens at least as
    strictly."""
    when = data.draw(_past(fields["assessed_on"]), label="date")
    for section, code in DATED_QUESTIONS:
        if section == "medications":
            dated = with_answer(fields, section, code, {"current": False, "last_dose": when})
            undated = with_answer(fields, section, code, {"current": False})
        else:
            dated = with_answer(fields, section, code, when)
            undated = with_answer(fields, section, code, True)
        assert_not_relaxed(screened(undated, protocol), screened(dated, protocol),
                           f"{section}.{code}")


@PROPERTY_SETTINGS
@given(fields=intake_fields(), data=st.data())
def test_removing_skin_type_zones_or_device_never_relaxes_the_verdict(
        protocol: Protocol, fields: dict[str, Any], data: st.DataObject) -> None:
    where = data.draw(st.sampled_from(["fitzpatrick", "zones", "device"]), label="field")
    value = data.draw({
        "fitzpatrick": st.integers(1, 6),
        "zones": st.lists(st.sampled_from(sorted(vocab.ZONES)), unique=True, min_size=1,
                          max_size=3),
        "device": st.sampled_from(sorted(vocab.DEVICES)),
    }[where], label="value")
    answered = with_answer(fields, where, None, value)
    blank = with_answer(fields, where, None, [] if where == "zones" else None)
    assert_not_relaxed(screened(blank, protocol), screened(answered, protocol), where)


LIMITED_RULES = sorted(key for key, rule in default_protocol().data.screening.rules.items()
                       if rule.zones_any or rule.devices_any)


@PROPERTY_SETTINGS
@given(fields=intake_fields(), data=st.data())
def test_a_rule_that_cannot_apply_neither_fires_nor_asks(
        protocol: Protocol, fields: dict[str, Any], data: st.DataObject) -> None:
    """With zones or a device that rule it out, a zone- or device-limited rule's questions do
    not matter: "yes", "no" and a blank all leave it silent (a blank must never screen worse
    than a "yes")."""
    rule_id = data.draw(st.sampled_from(LIMITED_RULES), label="rule")
    rule = protocol.data.screening.rules[rule_id]
    if rule.zones_any:
        other_zones = sorted(set(vocab.ZONES) - set(rule.zones_any))
        fields = with_answer(fields, "zones", None, data.draw(
            st.lists(st.sampled_from(other_zones), unique=True, min_size=1, max_size=3),
            label="zones"))
    if rule.devices_any:
        other_devices = sorted(set(vocab.DEVICES) - set(rule.devices_any))
        fields = with_answer(fields, "device", None, data.draw(
            st.sampled_from(other_devices), label="device"))
    results = []
    for answer in (True, False, BLANK):
        changed = fields
        for fact in rule.facts:
            category, _, code = fact.partition(":")
            changed = with_answer(changed, f"{category}s" if category != "allergy"
                                  else "allergies", code, answer)
        result = screened(changed, protocol)
        assert rule_id not in {r.rule for r in result.reasons}
        assert rule_id not in {u.rule for u in result.unanswered}
        results.append(result.verdict)
    assert len(set(results)) == 1, results


@PROPERTY_SETTINGS
@given(fields=intake_fields())
def test_an_intake_with_a_blank_is_never_suitable(protocol: Protocol,
                                                   fields: dict[str, Any]) -> None:
    result = screened(fields, protocol)
    if result.unanswered:
        assert result.verdict is not Verdict.SUITABLE


# --- 3. defer_until ------------------------------------------------------------------------

@PROPERTY_SETTINGS
@given(fields=intake_fields())
def test_defer_until_is_never_on_or_before_the_planned_date(
        protocol: Protocol, fields: dict[str, Any]) -> None:
    result = screened(fields, protocol)
    for date in [result.defer_until, *(r.defer_until for r in result.reasons)]:
        assert date is None or date > result.planned_date
    if result.defer_until is not None:
        assert result.verdict is Verdict.DEFER
        assert result.defer_until == max(r.defer_until for r in result.reasons
                                          if r.defer_until is not None)
    if result.verdict is Verdict.DEFER:
        assert result.defer_until is not None or result.resolve_when


# --- 4. sources, and the verdict is the most restrictive reason ----------------------------

@PROPERTY_SETTINGS
@given(fields=intake_fields())
def test_every_reason_has_sources_that_resolve(protocol: Protocol,
                                               fields: dict[str, Any]) -> None:
    result = screened(fields, protocol)
    bibliography = protocol.data.bibliography
    rules = protocol.data.screening.rules
    for reason in result.reasons:
        rule = rules[reason.rule]
        assert rule.enabled
        assert reason.sources, reason.rule
        assert [s.key for s in reason.sources] == rule.sources
        assert reason.evidence is rule.evidence
        assert reason.basis == basis_of(rule.evidence)
        assert reason.patient.endswith(CLINIC_POLICY_NOTE) == (
            rule.evidence is Evidence.PRACTICE)
    items: list[Reason | Information] = [*result.reasons, *result.information]
    for item in items:
        for source in item.sources:
            assert source.key in bibliography
            cited = bibliography[source.key]
            assert (source.citation, source.link, source.kind) == (cited.citation, cited.link,
                                                                   cited.kind)


@PROPERTY_SETTINGS
@given(fields=intake_fields())
def test_the_verdict_is_the_most_restrictive_reason(protocol: Protocol,
                                                    fields: dict[str, Any]) -> None:
    result = screened(fields, protocol)
    floor = Verdict.SUITABLE_WITH_PRECAUTIONS if result.unanswered else Verdict.SUITABLE
    expected = max([floor, *(r.verdict for r in result.reasons)], key=lambda v: v.rank)
    assert result.verdict is expected
    ranks = [r.verdict.rank for r in result.reasons]
    assert ranks == sorted(ranks, reverse=True)
    assert result.precautions == [r.precaution for r in result.reasons if r.precaution]

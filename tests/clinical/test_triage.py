"""Triage vignettes: what a patient reports, and the level and reasons a clinician would expect."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from needlecare.clinical.protocol.loader import default_protocol
from needlecare.clinical.triage import CheckIn, triage
from needlecare.clinical.vocabulary import RED_FLAGS, Level

SESSION_DAY = dt.date(2026, 11, 20)


def session(**changes: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {"date": SESSION_DAY.isoformat(), "deepest_depth_mm": 1.5,
                             "zones": ["cheeks"], "fitzpatrick": 3, "device": "pen"}
    facts.update(changes)
    return facts


def checkin(day: int, symptoms: dict[str, Any] | None = None, flags: dict[str, Any] | None = None,
            *, all_flags_answered: bool = True, **extra: Any) -> CheckIn:
    red_flags: dict[str, Any] = dict.fromkeys(RED_FLAGS, False) if all_flags_answered else {}
    red_flags.update(flags or {})
    reported = dt.datetime.combine(SESSION_DAY + dt.timedelta(days=day), dt.time(21, 30))
    doc: dict[str, Any] = {"session": extra.pop("session", session()),
                           "reported_at": reported.isoformat(),
                           "symptoms": symptoms or {}, "red_flags": red_flags}
    doc.update(extra)
    return CheckIn.model_validate(doc)


def fired(result: Any) -> set[str]:
    return {r.rule for r in result.reasons if r.level is not Level.EXPECTED}


VIGNETTES: list[tuple[str, CheckIn, Level, set[str]]] = [
    ("normal day 2: fading redness and swelling",
     checkin(2, {"redness": {"severity": 4, "trend": "better"},
                 "swelling": {"severity": 2, "trend": "better"}}),
     Level.EXPECTED, set()),
    ("nothing to report on day 1", checkin(1), Level.EXPECTED, set()),
    ("pus and fever on day 3",
     checkin(3, {"redness": {"severity": 6, "trend": "worse"}},
             {"pus_or_yellow_crusts": True, "fever_or_chills": True}),
     Level.URGENT, {"infection_signs", "fever", "redness_swelling_worsening"}),
    ("throat swelling on day 0", checkin(0, flags={"breathing_or_throat_swelling": True}),
     Level.EMERGENCY, {"anaphylaxis"}),
    ("vision change on day 1", checkin(1, flags={"vision_change": True}),
     Level.EMERGENCY, {"vision_change"}),
    ("heavy bleeding", checkin(0, flags={"bleeding_heavy": True, "bleeding_wont_stop": True}),
     Level.EMERGENCY, {"heavy_bleeding", "bleeding_wont_stop"}),
    ("redness still there on day 9",
     checkin(9, {"redness": {"severity": 2, "trend": "same"}}),
     Level.CONTACT_CLINIC, {"persistent_course"}),
    ("redness getting worse on day 5",
     checkin(5, {"redness": {"severity": 3, "trend": "worse"}}),
     Level.CONTACT_CLINIC, {"redness_swelling_worsening"}),
    ("redness a little worse on day 1 is still normal",
     checkin(1, {"redness": {"severity": 5, "trend": "worse"}}),
     Level.EXPECTED, set()),
    ("pain 8/10 on day 1", checkin(1, {"pain": {"severity": 8, "trend": "same"}}),
     Level.URGENT, {"severe_pain", "stronger_than_expected"}),
    ("pain getting worse on day 3", checkin(3, {"pain": {"severity": 3, "trend": "worse"}}),
     Level.URGENT, {"pain_worsening_after_48h", "stronger_than_expected"}),
    # Reference T10: pain getting worse rather than better is urgent (contact_clinic in 2026.1).
    ("pain getting worse on day 1", checkin(1, {"pain": {"severity": 3, "trend": "worse"}}),
     Level.URGENT, {"pain_worsening_early"}),
    ("bleeding again on day 2",
     checkin(2, {"pinpoint_bleeding": {"severity": 2, "trend": "same"}}),
     Level.URGENT, {"rebleeding"}),
    ("rash with marked swelling",
     checkin(2, {"swelling": {"severity": 8, "trend": "worse"}}, {"hives_or_rash": True}),
     Level.URGENT, {"rash_with_marked_swelling", "rash", "stronger_than_expected"}),
    ("itchy rash, little swelling",
     checkin(2, {"swelling": {"severity": 2, "trend": "better"}}, {"hives_or_rash": True}),
     Level.CONTACT_CLINIC, {"rash"}),
    ("cold sores on day 3", checkin(3, flags={"blisters_or_cold_sores": True}),
     Level.URGENT, {"cold_sores"}),
    ("numbness after RF microneedling",
     checkin(2, flags={"numbness_burn_or_dent": True}, session=session(device="rf")),
     Level.URGENT, {"rf_injury", "numbness_other_device"}),
    ("numbness after pen microneedling", checkin(2, flags={"numbness_burn_or_dent": True}),
     Level.CONTACT_CLINIC, {"numbness_other_device"}),
    ("dark patches at four weeks", checkin(30, flags={"new_dark_patches": True}),
     Level.CONTACT_CLINIC, {"dark_patches"}),
    ("firm bumps at three weeks", checkin(21, flags={"firm_bumps": True}),
     Level.CONTACT_CLINIC, {"firm_bumps"}),
    ("grid marks", checkin(14, flags={"grid_or_track_marks": True}),
     Level.CONTACT_CLINIC, {"track_marks"}),
    ("the patient's note mentions pus although every box says no",
     checkin(2, note="There is some yellow pus near my chin"),
     Level.CONTACT_CLINIC, {"free_text_mention"}),
    ("breakouts on day 5 are expected",
     checkin(5, {"breakouts": {"severity": 2, "trend": "same"}}), Level.EXPECTED, set()),
    ("breakouts still there at day 16",
     checkin(16, {"breakouts": {"severity": 2, "trend": "same"}}),
     Level.CONTACT_CLINIC, {"persistent_course"}),
    ("a fading bruise on day 10",
     checkin(10, {"bruising": {"severity": 2, "trend": "better"}}), Level.EXPECTED, set()),
    ("shallow session: pink on day 3 is fading, not a problem",
     checkin(3, {"redness": {"severity": 2, "trend": "better"}},
             session=session(deepest_depth_mm=0.5)),
     Level.EXPECTED, set()),
    ("shallow session: strong redness on day 3 is more than expected",
     checkin(3, {"redness": {"severity": 6, "trend": "same"}},
             session=session(deepest_depth_mm=0.5)),
     Level.CONTACT_CLINIC, {"stronger_than_expected"}),
    ("deep session: strong redness on day 3 is still normal",
     checkin(3, {"redness": {"severity": 6, "trend": "better"}},
             session=session(deepest_depth_mm=2.0)),
     Level.EXPECTED, set()),
    # --- added in 2026.2 (issue 9, item 5) ---
    ("faint with hives on the treated skin (T11)",
     checkin(0, flags={"faint_or_dizzy": True, "hives_or_rash": True}),
     Level.EMERGENCY, {"faint_with_skin_or_breathing_sign", "faint_or_dizzy", "rash"}),
    ("faint with hives all over (T11)",
     checkin(1, flags={"faint_or_dizzy": True, "rash_widespread": True}),
     Level.EMERGENCY, {"faint_with_skin_or_breathing_sign", "faint_or_dizzy",
                       "rash_widespread"}),
    ("faint with throat swelling (T11)",
     checkin(0, flags={"faint_or_dizzy": True, "breathing_or_throat_swelling": True}),
     Level.EMERGENCY, {"faint_with_skin_or_breathing_sign", "faint_or_dizzy", "anaphylaxis"}),
    ("faint with spreading redness on day 4 (T7: very unwell)",
     checkin(4, flags={"faint_or_dizzy": True, "spreading_redness": True}),
     Level.EMERGENCY, {"faint_with_skin_or_breathing_sign", "faint_or_dizzy", "infection_signs"}),
    ("dizzy on day 1 with no skin or breathing sign",
     checkin(1, flags={"faint_or_dizzy": True}), Level.URGENT, {"faint_or_dizzy"}),
    ("hives beyond the treated area (T4: urgent)",
     checkin(2, flags={"rash_widespread": True}), Level.URGENT, {"rash_widespread"}),
    ("clear fluid on the day of treatment is normal",
     checkin(0, {"weeping": {"severity": 2, "trend": "same"}}), Level.EXPECTED, set()),
    ("clear fluid still weeping on day 2 is not bleeding (T4)",
     checkin(2, {"weeping": {"severity": 2, "trend": "same"}}),
     Level.CONTACT_CLINIC, {"weeping_after_day0"}),
    ("warm skin on the evening of treatment",
     checkin(0, {"warmth": {"severity": 4, "trend": "same"}}), Level.EXPECTED, set()),
    ("skin getting hotter on day 2 (T6)",
     checkin(2, {"warmth": {"severity": 4, "trend": "worse"}}),
     Level.URGENT, {"warmth_increasing", "stronger_than_expected"}),
    ("warmth still there on day 5",
     checkin(5, {"warmth": {"severity": 2, "trend": "better"}}),
     Level.CONTACT_CLINIC, {"persistent_course"}),
    ("pale patches after pen microneedling",
     checkin(10, flags={"pale_or_white_patches": True}),
     Level.CONTACT_CLINIC, {"pale_patches"}),
    ("pale patches after RF microneedling",
     checkin(1, flags={"pale_or_white_patches": True}, session=session(device="rf")),
     Level.URGENT, {"pale_patches_rf", "pale_patches"}),
    ("small dark scabs on day 4 after 1.5 mm",
     checkin(4, {"scabs": {"severity": 2, "trend": "better"}}), Level.EXPECTED, set()),
    ("scabs still there on day 12",
     checkin(12, {"scabs": {"severity": 1, "trend": "same"}}),
     Level.CONTACT_CLINIC, {"persistent_course"}),
    ("yellow crusts are the infection red flag, not ordinary scabs",
     checkin(4, {"scabs": {"severity": 2, "trend": "better"}}, {"pus_or_yellow_crusts": True}),
     Level.URGENT, {"infection_signs"}),
    # The numbing cream wears off on day 0, so rising pain that evening stays within the course
    # (pain may rise until day 0); from day 1 it is urgent (T10).
    ("pain rising on the evening of treatment",
     checkin(0, {"pain": {"severity": 4, "trend": "worse"}}), Level.EXPECTED, set()),
    ("the patient's note says dizzy although every box says no",
     checkin(1, note="Felt a bit dizzy this morning"),
     Level.CONTACT_CLINIC, {"free_text_mention"}),
]


@pytest.mark.parametrize(("checkin_", "level", "rules"),
                         [v[1:] for v in VIGNETTES], ids=[v[0] for v in VIGNETTES])
def test_vignette(checkin_: CheckIn, level: Level, rules: set[str]) -> None:
    result = triage(checkin_)
    assert result.level is level
    assert fired(result) == rules


def test_level_is_the_most_severe_reason() -> None:
    result = triage(checkin(3, {"pain": {"severity": 9, "trend": "worse"}},
                            {"pus_or_yellow_crusts": True, "vision_change": True}))
    assert result.level is Level.EMERGENCY
    assert result.reasons[0].level is Level.EMERGENCY
    assert [r.level.rank for r in result.reasons] == sorted(
        (r.level.rank for r in result.reasons), reverse=True)


def test_emergency_advice_says_call_emergency_services_first() -> None:
    result = triage(checkin(0, flags={"breathing_or_throat_swelling": True}))
    assert result.advice[0].startswith("Call emergency services now.")
    assert "emergency number" in result.advice[0]


def test_urgent_advice_says_call_the_clinic_now() -> None:
    result = triage(checkin(3, flags={"pus_or_yellow_crusts": True}))
    assert result.advice[0].startswith("Call the clinic now")


def test_expected_advice_includes_todays_soothing_care() -> None:
    result = triage(checkin(1, {"redness": {"severity": 3, "trend": "better"}}))
    assert any("gel" in line for line in result.advice)
    assert any("sunscreen" in line.lower() for line in result.advice)
    assert result.advice[-1] == default_protocol().data.aftercare.call_clinic


def test_expected_course_for_today_is_included() -> None:
    result = triage(checkin(2, {"redness": {"severity": 4, "trend": "better"}}))
    assert result.day == 2
    assert result.expected.day == 2
    assert result.expected.for_symptom("redness").phase == "normal"
    assert result.expected.for_symptom("pinpoint_bleeding").phase == "not_expected"


def test_faintness_alone_is_urgent_and_says_when_to_call_emergency_services() -> None:
    result = triage(checkin(1, flags={"faint_or_dizzy": True}))
    (reason,) = [r for r in result.reasons if r.rule == "faint_or_dizzy"]
    assert "call emergency services" in reason.patient


def test_faintness_with_an_unanswered_skin_sign_is_an_assumed_emergency() -> None:
    flags = {"faint_or_dizzy": True, "hives_or_rash": None}
    result = triage(checkin(1, flags=flags))
    assert result.level is Level.EMERGENCY
    together = next(r for r in result.reasons if r.rule == "faint_with_skin_or_breathing_sign")
    assert together.assumed
    assert together.subject == "faint_or_dizzy"


def test_clear_ooze_never_reads_as_bleeding() -> None:
    result = triage(checkin(3, {"weeping": {"severity": 3, "trend": "same"}}))
    assert "rebleeding" not in fired(result)
    assert result.level is Level.CONTACT_CLINIC


class TestAnEarlierProtocolVersion:
    """Check-ins can still be triaged under 2026.1, with its own rules and questions."""

    @staticmethod
    def first() -> Any:
        from needlecare.clinical.protocol.loader import protocol_by_version

        return protocol_by_version("microneedling-2026.1")

    @staticmethod
    def old_flags() -> dict[str, Any]:
        return {code: False for code, term in RED_FLAGS.items() if term.since == 1}

    def test_its_own_rules_apply(self) -> None:
        doc = checkin(1, {"pain": {"severity": 3, "trend": "worse"}}, all_flags_answered=False,
                      red_flags=self.old_flags())
        result = triage(doc, self.first())
        assert result.protocol.version == "2026.1"
        assert result.level is Level.CONTACT_CLINIC  # 2026.1's level for T10
        assert result.unanswered == []
        assert "warmth" not in {s.symptom for s in result.expected.symptoms}

    def test_a_question_it_did_not_ask_is_refused_not_ignored(self) -> None:
        with pytest.raises(ValueError, match=r"red flag 'faint_or_dizzy' is not part of "
                                             r"protocol microneedling-2026\.1"):
            triage(checkin(1, all_flags_answered=False,
                           red_flags={**self.old_flags(), "faint_or_dizzy": True}), self.first())

    def test_photos_are_refused(self) -> None:
        doc = checkin(9, all_flags_answered=False, red_flags=self.old_flags(),
                      photos=[{"day": 8, "a_star_change": 6, "quality_ok": True}])
        with pytest.raises(ValueError, match="does not read redness on photos"):
            triage(doc, self.first())


class TestMissingAnswers:
    def test_unanswered_red_flags_are_read_as_yes_and_marked_assumed(self) -> None:
        result = triage(checkin(2, all_flags_answered=False))
        assert result.level is Level.EMERGENCY
        assumed = {r.subject for r in result.reasons if r.assumed}
        assert assumed == set(RED_FLAGS)
        assert sorted(result.unanswered) == sorted(f"red_flags.{c}" for c in RED_FLAGS)
        anaphylaxis = next(r for r in result.reasons if r.rule == "anaphylaxis")
        assert anaphylaxis.patient.startswith("You did not tell us whether you have")

    def test_a_null_answer_is_unanswered(self) -> None:
        result = triage(checkin(2, flags={"fever_or_chills": None}))
        assert result.level is Level.URGENT
        assert [r.rule for r in result.reasons if r.assumed] == ["fever"]

    def test_missing_severity_is_read_as_the_worst(self) -> None:
        result = triage(checkin(1, {"pain": {"trend": "better"}}))
        assert result.level is Level.URGENT
        assert "symptoms.pain.severity" in result.unanswered
        assert any(r.rule == "severe_pain" and r.assumed for r in result.reasons)

    def test_missing_trend_is_read_as_worse(self) -> None:
        result = triage(checkin(5, {"redness": {"severity": 2}}))
        assert result.level is Level.CONTACT_CLINIC
        assert any(r.rule == "redness_swelling_worsening" and r.assumed for r in result.reasons)


class TestHistory:
    def test_higher_severity_than_last_time_counts_as_worse(self) -> None:
        earlier = {"reported_at": "2026-11-23T09:00:00",
                   "symptoms": {"redness": {"severity": 3, "trend": "better"}}}
        result = triage(checkin(4, {"redness": {"severity": 4, "trend": "better"}},
                                previous=[earlier]))
        assert result.level is Level.CONTACT_CLINIC
        assert "redness_swelling_worsening" in fired(result)

    def test_lower_severity_than_last_time_stays_expected(self) -> None:
        earlier = {"reported_at": "2026-11-22T09:00:00",
                   "symptoms": {"redness": {"severity": 5, "trend": "same"}}}
        result = triage(checkin(3, {"redness": {"severity": 3, "trend": "better"}},
                                previous=[earlier]))
        assert result.level is Level.EXPECTED


class TestInvalidCheckins:
    @pytest.mark.parametrize(("symptoms", "flags", "field"), [
        ({"pain": {"severity": True, "trend": "same"}}, {}, "severity"),
        ({"pain": {"severity": 11, "trend": "same"}}, {}, "severity"),
        ({"pain": {"severity": 3.5, "trend": "same"}}, {}, "severity"),
        ({"pain": {"severity": 3, "trend": "sideways"}}, {}, "trend"),
        ({"itchiness": {"severity": 3}}, {}, "itchiness"),
        ({}, {"zombie_bite": True}, "zombie_bite"),
        ({}, {"fever_or_chills": "yes"}, "fever_or_chills"),
    ])
    def test_is_refused_naming_the_field(self, symptoms: dict[str, Any],
                                         flags: dict[str, Any], field: str) -> None:
        with pytest.raises(ValidationError) as error:
            checkin(2, symptoms, flags)
        assert field in str(error.value)

    def test_a_report_before_the_session_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="before the session"):
            checkin(-1)

    def test_unknown_fields_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="mood"):
            checkin(2, mood="fine")


def test_output_round_trips_as_json() -> None:
    from needlecare.clinical.triage import TriageResult

    result = triage(checkin(3, flags={"pus_or_yellow_crusts": True}))
    dumped = result.model_dump(mode="json", by_alias=True)
    assert dumped["schema"] == "needlecare.triage/1"
    assert dumped["protocol"] == {"name": "microneedling", "version": "2026.2"}
    assert TriageResult.model_validate(dumped) == result

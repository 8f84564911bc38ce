"""Treatment plans: made from a consultation's stored screening, shown with their sources,
changed only with a reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from needlecare.audit.models import AuditEvent
from needlecare.care.models import PlanEdit, TreatmentPlan
from tests.factories import healthy_intake, make_consultation, make_plan, make_signed_session
from tests.web.care.support import client_for, today

pytestmark = pytest.mark.django_db


def _plan(journey: dict[str, Any], consultation: Any, **data: Any) -> Any:
    payload = {"indications": ["acne_scars"], "zones": ["cheeks"], **data}
    return client_for(journey["clinician"]).post(
        reverse("plan-new", args=[consultation.pk]), payload)


def test_the_form_is_prefilled_from_the_intake_and_offers_only_screened_zones(
        journey: dict[str, Any]) -> None:
    consultation = make_consultation(journey["patient"], journey["clinician"], healthy_intake(
        indications=["fine_lines"], zones=["forehead", "cheeks"]))
    page = client_for(journey["clinician"]).get(
        reverse("plan-new", args=[consultation.pk])).content.decode()
    assert 'value="fine_lines" id="id_indications_1" checked' in page
    assert 'value="forehead"' in page
    assert 'value="cheeks"' in page
    assert 'value="neck"' not in page


def test_a_plan_stores_the_generated_document_and_its_working_values(
        journey: dict[str, Any]) -> None:
    response = _plan(journey, journey["consultation"])
    plan = TreatmentPlan.objects.latest("id")
    assert response["Location"] == reverse("plan-detail", args=[plan.pk])
    assert plan.generated["schema"] == "needlecare.plan/1"
    assert plan.protocol_version == "microneedling-2026.2"
    assert plan.sessions_planned == plan.generated["sessions"]["sessions_max"]
    assert plan.interval_days == plan.generated["sessions"]["interval_days"]
    assert plan.depth_ranges == {"cheeks": [1.5, 2.0]}
    assert plan.fitzpatrick == 2
    assert AuditEvent.objects.filter(action="plan.create", patient=plan.patient).count() == 1


def test_an_unscreened_zone_is_refused(journey: dict[str, Any]) -> None:
    before = TreatmentPlan.objects.count()
    response = _plan(journey, journey["consultation"], zones=["neck"])
    assert response.status_code == 200
    assert "were not screened in this consultation: Neck" in response.content.decode()
    assert TreatmentPlan.objects.count() == before


def test_not_suitable_is_refused_until_a_clinician_overrides_it(
        journey: dict[str, Any]) -> None:
    consultation = make_consultation(journey["patient"], journey["clinician"], healthy_intake(
        conditions={**healthy_intake()["conditions"], "keloid_history": True}))
    assert consultation.verdict == "not_suitable"
    before = TreatmentPlan.objects.count()
    response = _plan(journey, consultation)
    assert response.status_code == 200
    assert "no treatment plan can be made" in response.content.decode()
    assert TreatmentPlan.objects.count() == before
    assert not AuditEvent.objects.filter(action="plan.create").exists()

    client_for(journey["clinician"]).post(
        reverse("consultation-override", args=[consultation.pk]),
        {"verdict": "suitable_with_precautions",
         "reason": "Dermatologist letter: no keloid tendency on the face."})
    response = _plan(journey, consultation)
    assert response.status_code == 302
    plan = TreatmentPlan.objects.latest("id")
    assert plan.generated["status"] == "ready"


def test_a_deferred_plan_shows_when_treatment_may_start(journey: dict[str, Any]) -> None:
    peel = today() - dt.timedelta(days=2)
    consultation = make_consultation(journey["patient"], journey["clinician"], healthy_intake(
        procedures={**healthy_intake()["procedures"], "chemical_peel_light": peel.isoformat()}))
    assert consultation.verdict == "defer"
    client = client_for(journey["clinician"])
    page = client.get(reverse("plan-new", args=[consultation.pk])).content.decode()
    day = f"{consultation.defer_until:%-d %B %Y}"
    assert "Treatment is deferred" in page
    assert day in page
    response = _plan(journey, consultation)
    page = client.get(response["Location"]).content.decode()
    assert "Deferred until" in page
    assert day in page


def test_the_plan_page_shows_ranges_sources_progress_and_preparation(
        journey: dict[str, Any]) -> None:
    consultation = make_consultation(journey["patient"], journey["clinician"], healthy_intake(
        medications={**healthy_intake()["medications"], "topical_retinoid": True}))
    _plan(journey, consultation)
    plan = TreatmentPlan.objects.latest("id")
    last = today() - dt.timedelta(days=10)
    make_signed_session(plan, journey["clinician"], performed_on=last)
    page = client_for(journey["clinician"]).get(
        reverse("plan-detail", args=[plan.pk])).content.decode()
    assert "Cheeks" in page
    assert "1.5–2.0" in page
    assert "Clinic policy" in page  # the zone table is clinic policy, and says so
    assert "Harris AG" in page  # with its sources
    assert "Sessions done</dt><dd>1</dd>" in page
    next_day = last + dt.timedelta(days=plan.interval_days)
    assert f"{next_day:%-d %B %Y}" in page
    assert "Stop topical retinoids" in page  # preparation from the intake's facts
    assert "Results are not immediate" in page  # results timeline
    assert "Topical lidocaine with about a 30-minute wait." in page  # anaesthetic


def test_changes_need_a_reason_and_are_kept_in_the_history(journey: dict[str, Any]) -> None:
    plan = journey["plan"]
    client = client_for(journey["clinician"])
    url = reverse("plan-edit", args=[plan.pk])
    data = {"sessions_planned": "4", "interval_days": "28", "min_cheeks": "1.50",
            "max_cheeks": "2.50"}

    response = client.post(url, {**data, "reason": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    plan.refresh_from_db()
    assert (plan.sessions_planned, plan.depth_ranges) == (3, {"cheeks": [1.5, 2.0]})

    reason = "Deep boxcar scars; tolerated 2.0 mm well last time."
    response = client.post(url, {**data, "reason": reason})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.sessions_planned, plan.depth_ranges) == (4, {"cheeks": [1.5, 2.5]})
    edits = list(PlanEdit.objects.filter(plan=plan).values_list("field", "old_value",
                                                                "new_value", "reason"))
    assert edits == [("sessions_planned", 3, 4, reason),
                     ("depth_ranges.cheeks", [1.5, 2.0], [1.5, 2.5], reason)]
    event = AuditEvent.objects.get(action="plan.edit")
    assert event.detail["reason"] == reason
    page = client.get(reverse("plan-detail", args=[plan.pk])).content.decode()
    assert "depth_ranges.cheeks" in page
    assert reason in page


@pytest.mark.parametrize(("changes", "message"), [
    ({"max_cheeks": "9"}, "less than or equal to 3.0"),
    ({"max_cheeks": "abc"}, "Enter a number."),
    ({"min_cheeks": "2.0", "max_cheeks": "1.0"}, "must not be below the minimum"),
    ({"interval_days": "0"}, "greater than or equal to 1"),
    ({}, "Nothing was changed."),
])
def test_bad_changes_re_render_and_change_nothing(
        journey: dict[str, Any], changes: dict[str, str], message: str) -> None:
    plan = journey["plan"]
    data = {"sessions_planned": "3", "interval_days": "28", "min_cheeks": "1.5",
            "max_cheeks": "2.0", "reason": "A reason long enough to count.", **changes}
    response = client_for(journey["clinician"]).post(reverse("plan-edit", args=[plan.pk]),
                                                     data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PlanEdit.objects.filter(plan=plan).exists()


def test_the_plan_page_needs_few_queries_however_many_sessions(
        journey: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    plan = make_plan(journey["consultation"], journey["clinician"])
    for n in range(6):
        make_signed_session(plan, journey["clinician"],
                            performed_on=today() - dt.timedelta(days=28 * n))
    client = client_for(journey["clinician"])
    # 12 for the plan itself, 6 for the course section (outcomes app): sessions, outcome
    # records, adverse events, invitations, consent and open escalations, one query each.
    with django_assert_max_num_queries(18):
        assert client.get(reverse("plan-detail", args=[plan.pk])).status_code == 200


def test_an_override_of_a_deferral_plans_without_its_dates(journey: dict[str, Any]) -> None:
    peel = today() - dt.timedelta(days=2)
    consultation = make_consultation(journey["patient"], journey["clinician"], healthy_intake(
        procedures={**healthy_intake()["procedures"], "chemical_peel_light": peel.isoformat()}))
    client_for(journey["clinician"]).post(
        reverse("consultation-override", args=[consultation.pk]),
        {"verdict": "suitable", "reason": "The peel was a 10% lactic acid, skin fully calm."})
    _plan(journey, consultation)
    plan = TreatmentPlan.objects.latest("id")
    assert plan.generated["status"] == "ready"
    assert plan.generated["earliest_start"] == today().isoformat()
    assert plan.generated["defer_until"] is None
    consultation.refresh_from_db()
    assert consultation.verdict == "defer"  # the screening itself is unchanged

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from needlecare.audit.models import AuditEvent
from needlecare.care.models import Consent, Consultation, SessionStatus
from needlecare.patients.views import link
from tests.factories import journey_to_signed_session
from tests.web.patients.support import (
    add_history,
    client_for,
    make_aftercare,
    make_booked_session,
    make_checkin,
    make_escalation,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(journey: dict) -> dict[str, Any]:
    """The journey's patient with one of every kind of record."""
    session = journey["session"]
    now = timezone.now()
    journey["booked"] = make_booked_session(journey["plan"], journey["front_desk"])
    journey["cancelled"] = make_booked_session(journey["plan"], journey["front_desk"],
                                               status=SessionStatus.CANCELLED, days_ahead=-3)
    journey["aftercare"] = make_aftercare(session)
    journey["checkin"] = make_checkin(session, "urgent")
    journey["overdue"] = make_escalation(session, "urgent",
                                         deadline=now - dt.timedelta(hours=1))
    consent = Consent.objects.get(patient=journey["patient"])
    consent.withdrawn_at = now
    consent.withdrawn_reason = "Changed their mind about photographs."
    consent.withdrawal_recorded_by = journey["clinician"]
    consent.save()
    journey["consent"] = consent
    Consultation.objects.filter(pk=journey["consultation"].pk).update(
        override_verdict="suitable_with_precautions", override_reason="Reviewed history.",
        overridden_by=journey["owner"], overridden_at=now)
    return journey


def _page(user: Any, patient: Any) -> str:
    response = client_for(user).get(reverse("patient-detail", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_clinician_sees_the_whole_story_newest_first(story: dict) -> None:
    response = client_for(story["clinician"]).get(
        reverse("patient-detail", args=[story["patient"].pk]))
    kinds = [entry.kind for entry in response.context["entries"]]
    assert sorted(kinds) == sorted(["session", "session", "session", "consent",
                                    "consent_withdrawn", "plan", "consultation", "aftercare",
                                    "checkin", "escalation"])
    times = [entry.at for entry in response.context["entries"]]
    assert times == sorted(times, reverse=True)
    assert kinds[0] == "session"  # the one booked for next week

    page = response.content.decode()
    assert "Suitable with precautions" in page  # the override…
    assert "changed from “Suitable”" in page    # …and what it replaced
    assert "Reviewed history." in page
    assert "Withdrawn" in page
    assert "Cheeks 1.50 mm, 3 passes" in page
    assert 'class="badge level-urgent"' in page
    assert 'class="overdue"' in page
    assert "Aftercare plan" in page
    assert "Booked" in page
    assert "Cancelled" in page


def test_timeline_entries_link_to_their_pages(story: dict) -> None:
    page = _page(story["clinician"], story["patient"])
    for name, pk in [("consultation-detail", story["consultation"].pk),
                     ("consent-detail", story["consent"].pk),
                     ("plan-detail", story["plan"].pk),
                     ("session-detail", story["session"].pk),
                     ("checkin-detail", story["checkin"].pk),
                     ("escalation-detail", story["overdue"].pk)]:
        assert f'href="{reverse(name, args=[pk])}"' in page, name


def test_the_clinician_is_offered_the_clinical_actions(story: dict) -> None:
    page = _page(story["clinician"], story["patient"])
    patient = story["patient"]
    assert reverse("patient-edit", args=[patient.pk]) in page
    assert reverse("consultation-new", args=[patient.pk]) in page
    assert reverse("consent-new", args=[patient.pk]) + "?kind=treatment" in page
    assert reverse("consent-new", args=[patient.pk]) + "?kind=photos" in page
    assert reverse("session-book", args=[story["plan"].pk]) in page
    assert reverse("plan-new", args=[story["consultation"].pk]) in page


def test_front_desk_sees_appointments_and_consent_status_but_nothing_clinical(
        story: dict) -> None:
    response = client_for(story["front_desk"]).get(
        reverse("patient-detail", args=[story["patient"].pk]))
    page = response.content.decode()
    assert {e.kind for e in response.context["entries"]} == {
        "session", "consent", "consent_withdrawn", "plan"}
    assert "Appointment" in page
    assert "Booked" in page
    assert "Cancelled" in page
    assert "Withdrawn" in page
    for clinical in ["Consultation", "verdict-", "Suitable", "level-", "Urgent", "Escalation",
                     "Overdue", "Check-in", "Aftercare", "1.50 mm", "Cheeks", "Acne scars",
                     "Changed their mind", "Reviewed history", "Respond by"]:
        assert clinical not in page, clinical
    for name, pk in [("consultation-detail", story["consultation"].pk),
                     ("session-detail", story["session"].pk),
                     ("plan-detail", story["plan"].pk),
                     ("consent-detail", story["consent"].pk),
                     ("checkin-detail", story["checkin"].pk),
                     ("escalation-detail", story["overdue"].pk),
                     ("consultation-new", story["patient"].pk),
                     ("plan-new", story["consultation"].pk)]:
        assert f'href="{reverse(name, args=[pk])}"' not in page, name
    # …but can still book.
    assert reverse("session-book", args=[story["plan"].pk]) in page
    assert reverse("patient-edit", args=[story["patient"].pk]) in page


def test_front_desk_queries_no_clinical_tables(story: dict) -> None:
    client = client_for(story["front_desk"])
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("patient-detail", args=[story["patient"].pk]))
    sql = " ".join(q["sql"] for q in queries)
    for table in ["care_consultation", "recovery_checkin", "recovery_escalation",
                  "care_aftercarerecord", "care_sessionzone"]:
        assert table not in sql, table


def test_viewing_a_patient_writes_exactly_one_audit_row(journey: dict) -> None:
    client = client_for(journey["clinician"])
    signed_in = AuditEvent.objects.count()
    client.get(reverse("patient-detail", args=[journey["patient"].pk]))
    events = list(AuditEvent.objects.all()[:AuditEvent.objects.count() - signed_in])
    assert len(events) == 1
    assert events[0].action == "patient.view"
    assert events[0].patient == journey["patient"]
    assert events[0].actor == journey["clinician"]


def _detail_queries(user: Any, patient: Any) -> int:
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("patient-detail", args=[patient.pk])).status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["clinician", "front_desk"])
def test_the_patient_page_runs_the_same_queries_for_1_or_20_records_of_each_kind(
        role: str) -> None:
    small, large = journey_to_signed_session(), journey_to_signed_session()
    add_history(small, 1)
    add_history(large, 20)
    few = _detail_queries(small[role], small["patient"])
    many = _detail_queries(large[role], large["patient"])
    assert few == many, (few, many)
    # The courses section (outcomes app) reads plans, sessions, outcome records, adverse
    # events, invitations, the consent and open escalations: seven queries, however many; the
    # photos, diary and education sections read theirs, as many whatever the history.
    assert many <= 30, many


def test_a_missing_page_gives_no_link_rather_than_an_error() -> None:
    assert link("no-such-page", 1) is None
    assert link("patient-detail", 7) == reverse("patient-detail", args=[7])
    assert link("patient-list", query={"q": "a b"}) == reverse("patient-list") + "?q=a+b"

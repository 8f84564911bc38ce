"""The clinicians' worklist and escalation pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor
from needlecare.accounts.models import User
from needlecare.audit.models import AuditEvent
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.recovery import links, services
from needlecare.recovery.models import (
    CheckIn,
    Escalation,
    EscalationNote,
    EscalationStatus,
    PatientLink,
)
from tests.factories import make_clinic, make_user
from tests.web.recovery.conftest import Linked, another_patient, signed_days_ago

pytestmark = pytest.mark.django_db


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def check_in(linked: Linked, *flags: str, symptoms: dict[str, Any] | None = None
             ) -> services.RecordedCheckIn:
    return services.submit_checkin(Actor.for_link(linked.link), {
        "symptoms": symptoms or {},
        "red_flags": {code: code in flags for code in RED_FLAGS}, "note": ""})


def test_escalations_are_ordered_by_level_then_deadline(linked: Linked) -> None:
    routine = another_patient(linked)
    urgent = another_patient(linked)
    emergency = another_patient(linked)
    check_in(routine, "new_dark_patches")
    check_in(urgent, "pus_or_yellow_crusts")
    check_in(emergency, "breathing_or_throat_swelling")
    check_in(linked, "fever_or_chills")
    listing = services.worklist(Actor(user=linked.clinician))
    assert [e.patient_id for e in listing.escalations] == [
        emergency.patient.pk, urgent.patient.pk, linked.patient.pk, routine.patient.pk]
    page = login(linked.clinician).get(reverse("worklist")).content.decode()
    assert page.index(emergency.patient.full_name) < page.index(routine.patient.full_name)
    assert "Pus or yellow crusts" in page
    assert "Overdue" not in page


def test_closed_escalations_and_other_clinics_stay_off_the_list(linked: Linked) -> None:
    check_in(linked, "fever_or_chills")
    services.close_escalation(Actor(user=linked.clinician), Escalation.objects.get().pk,
                              "reassured")
    elsewhere = signed_days_ago(2, clinic=make_clinic())
    check_in(elsewhere, "fever_or_chills")
    assert services.worklist(Actor(user=linked.clinician)).escalations == []


def test_an_escalation_past_its_deadline_is_marked_overdue(linked: Linked,
                                                            time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    check_in(linked, "pus_or_yellow_crusts")
    client = login(linked.clinician)
    assert "Overdue" not in client.get(reverse("worklist")).content.decode()
    time_machine.shift(dt.timedelta(hours=4, minutes=1))
    client = login(linked.clinician)  # the staff session itself ended after 30 idle minutes
    page = client.get(reverse("worklist")).content.decode()
    assert '<strong class="overdue">Overdue</strong>' in page
    detail = client.get(reverse("escalation-detail", args=[Escalation.objects.get().pk]))
    assert "Overdue" in detail.content.decode()


def test_todays_sessions_and_patients_due_a_check_in(linked: Linked) -> None:
    day_1 = signed_days_ago(1, clinic=linked.clinic)
    day_3 = signed_days_ago(3, clinic=linked.clinic)
    day_7 = signed_days_ago(7, clinic=linked.clinic)
    signed_days_ago(4, clinic=linked.clinic)
    check_in(day_3)  # already checked in today
    booked = TreatmentSession.objects.create(
        clinic=linked.clinic, patient=linked.patient, plan=linked.session.plan,
        status=SessionStatus.BOOKED, booked_by=linked.clinician,
        scheduled_for=timezone.now() + dt.timedelta(minutes=5))
    listing = services.worklist(Actor(user=linked.clinician))
    assert {s.pk for s in listing.due_checkins} == {day_1.session.pk, day_7.session.pk}
    assert {s.day for s in listing.due_checkins} == {1, 7}
    assert booked.pk in {s.pk for s in listing.sessions_today}
    page = login(linked.clinician).get(reverse("worklist")).content.decode()
    assert day_1.patient.full_name in page
    assert day_7.patient.full_name in page


def test_a_patient_due_without_a_working_link_is_offered_their_link_page(
        linked: Linked) -> None:
    day_1 = signed_days_ago(1, clinic=linked.clinic)
    links.revoke_link(Actor(user=linked.clinician), day_1.link.pk, "lost phone")
    page = login(linked.clinician).get(reverse("worklist")).content.decode()
    assert "No working link: send one" in page
    assert reverse("patient-link", args=[day_1.patient.pk]) in page


def _busy_clinic(linked: Linked, n: int) -> None:
    for i in range(n):
        other = another_patient(linked, days=(1, 3, 7)[i % 3])
        check_in(other, "fever_or_chills" if i % 2 else "new_dark_patches",
                 symptoms={"redness": {"severity": 2, "trend": "better"}})
        TreatmentSession.objects.create(
            clinic=linked.clinic, patient=other.patient, plan=other.session.plan,
            status=SessionStatus.BOOKED, booked_by=linked.clinician,
            scheduled_for=timezone.now() + dt.timedelta(minutes=i % 30))
        if i % 3 == 0:
            another_patient(linked, days=(1, 3, 7)[i % 3])  # due, not checked in


def _worklist_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("worklist")).status_code == 200
    return len(queries)


def test_the_worklist_takes_the_same_number_of_queries_for_2_or_40(linked: Linked) -> None:
    client = login(linked.clinician)
    _busy_clinic(linked, 2)
    few = _worklist_queries(client)
    _busy_clinic(linked, 38)
    assert Escalation.objects.count() == 40
    assert _worklist_queries(client) == few
    assert few <= 12


def test_acknowledge_note_and_close(linked: Linked) -> None:
    check_in(linked, "new_dark_patches")
    escalation = Escalation.objects.get()
    client = login(linked.clinician)
    page = client.get(reverse("escalation-detail", args=[escalation.pk])).content.decode()
    assert "New dark patches" in page  # the check-in's answers, clinicians' words
    assert "post-inflammatory hyperpigmentation" in page  # the reason's clinician text

    assert client.post(reverse("escalation-acknowledge", args=[escalation.pk])).status_code == 302
    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.ACKNOWLEDGED
    assert escalation.acknowledged_by == linked.clinician
    # Acknowledging twice is refused with a message, not an error page.
    response = client.post(reverse("escalation-acknowledge", args=[escalation.pk]), follow=True)
    assert "no longer open" in response.content.decode()

    empty = client.post(reverse("escalation-note", args=[escalation.pk]), {"text": "  "})
    assert empty.status_code == 200
    assert "Write the note first." in empty.content.decode()
    assert not EscalationNote.objects.exists()
    client.post(reverse("escalation-note", args=[escalation.pk]), {"text": "Called, booked"})
    assert EscalationNote.objects.get().text == "Called, booked"

    no_outcome = client.post(reverse("escalation-close", args=[escalation.pk]), {"outcome": ""})
    assert no_outcome.status_code == 200
    assert "Choose the outcome before closing." in no_outcome.content.decode()
    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.ACKNOWLEDGED

    response = client.post(reverse("escalation-close", args=[escalation.pk]),
                           {"outcome": "referred_dermatology", "note": "Laser for PIH"})
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.CLOSED
    assert escalation.outcome == "referred_dermatology"
    assert escalation.closed_by == linked.clinician
    assert EscalationNote.objects.count() == 2
    actions = set(AuditEvent.objects.filter(object_id=str(escalation.pk))
                  .values_list("action", flat=True))
    assert {"escalation.acknowledge", "escalation.note", "escalation.close"} <= actions
    again = client.post(reverse("escalation-close", args=[escalation.pk]),
                        {"outcome": "reassured"}, follow=True)
    assert "already closed" in again.content.decode()
    escalation.refresh_from_db()
    assert escalation.outcome == "referred_dermatology"


def test_closing_an_unacknowledged_escalation_acknowledges_it(linked: Linked) -> None:
    check_in(linked, "fever_or_chills")
    escalation = Escalation.objects.get()
    login(linked.owner).post(reverse("escalation-close", args=[escalation.pk]),
                             {"outcome": "seen_in_clinic"})
    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.CLOSED
    assert escalation.acknowledged_by == linked.owner
    assert escalation.acknowledged_at == escalation.closed_at


def test_an_unknown_outcome_is_refused(linked: Linked) -> None:
    check_in(linked, "fever_or_chills")
    escalation = Escalation.objects.get()
    response = login(linked.clinician).post(reverse("escalation-close", args=[escalation.pk]),
                                            {"outcome": "vanished"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.OPEN


def test_the_check_in_page_shows_answers_and_reasons(linked: Linked) -> None:
    recorded = check_in(linked, "pus_or_yellow_crusts",
                        symptoms={"pain": {"severity": 5, "trend": "worse"}})
    page = login(linked.clinician).get(
        reverse("checkin-detail", args=[recorded.checkin.pk])).content.decode()
    assert "Pus or yellow crusts" in page
    assert "Pain or burning: 5/10, worse" in page
    assert "possible bacterial infection" in page
    assert AuditEvent.objects.filter(action="checkin.view").exists()


@pytest.mark.parametrize(("method", "name"), [
    ("get", "worklist"), ("get", "escalation-detail"), ("post", "escalation-acknowledge"),
    ("post", "escalation-note"), ("post", "escalation-close"), ("get", "checkin-detail"),
])
def test_front_desk_never_sees_escalations_or_check_ins(linked: Linked, method: str,
                                                        name: str) -> None:
    recorded = check_in(linked, "fever_or_chills")
    args = [] if name == "worklist" else [
        recorded.checkin.pk if name == "checkin-detail" else Escalation.objects.get().pk]
    client = login(linked.front_desk)
    data = {"text": "x", "outcome": "reassured"}
    response = client.post(reverse(name, args=args), data) if method == "post" else client.get(
        reverse(name, args=args))
    assert response.status_code == 403
    escalation = Escalation.objects.get()
    assert escalation.status == EscalationStatus.OPEN
    assert not EscalationNote.objects.exists()


@pytest.mark.parametrize("name", ["escalation-detail", "checkin-detail"])
def test_another_clinic_gets_not_found(linked: Linked, name: str) -> None:
    recorded = check_in(linked, "fever_or_chills")
    pk = recorded.checkin.pk if name == "checkin-detail" else Escalation.objects.get().pk
    outsider = make_user(make_clinic())
    assert login(outsider).get(reverse(name, args=[pk])).status_code == 404


def test_staff_pages_need_a_login(linked: Linked) -> None:
    response = Client().get(reverse("worklist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert not CheckIn.objects.exists()


def test_a_patient_due_a_check_in_without_a_working_link_is_offered_one(linked: Linked) -> None:
    due = signed_days_ago(1, clinic=linked.clinic)
    PatientLink.objects.filter(patient=due.patient).update(revoked_at=timezone.now())
    response = login(linked.clinician).get(reverse("worklist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "No working link: send one" in page
    assert reverse("patient-link", args=[due.patient.pk]) in page

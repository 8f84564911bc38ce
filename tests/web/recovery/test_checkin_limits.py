"""A link accepts a bounded number of check-ins a day, and the messages about check-ins are
coalesced: at most one to the patient per change of the escalation's state, and one alert per
clinician per level, however many times the form is sent."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.test import Client

from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.messaging.models import Message, MessageKind, Recipient
from needlecare.recovery.models import CheckIn, Escalation
from tests.web.messaging.support import london
from tests.web.recovery.conftest import Linked, answers, signed_days_ago, verified_client

pytestmark = pytest.mark.django_db

MORNING = london(2026, 3, 4, 8, 0)
#: Symptoms that, mild and getting better on day 2, are expected healing.
CALM = ("redness", "swelling", "dryness_flaking", "tightness", "itching")


@pytest.fixture
def linked() -> Linked:
    with time_machine.travel(london(2026, 3, 2, 12, 0), tick=False):
        return signed_days_ago(0)


def varied_answers(n: int) -> dict[str, str]:
    """The n-th of many different check-ins: mostly reassuring, some needing the clinic, a
    few urgent, so that the escalation opens, joins and is raised along the way."""
    symptom = CALM[n % len(CALM)]
    flags: set[str] = set()
    if n % 7 == 3:
        flags = {"firm_bumps"}  # contact the clinic
    if n % 11 == 5:
        flags = {"pus_or_yellow_crusts"}  # urgent
    return answers({symptom: (1 + n % 3, "better")}, flags=flags, note=f"check-in {n}")


def patient_messages(linked: Linked, kind: str) -> int:
    return Message.objects.filter(patient=linked.patient, recipient=Recipient.PATIENT,
                                  kind=kind).count()


def test_a_hundred_check_ins_send_one_message_per_escalation_change(
        linked: Linked, settings: object) -> None:
    settings.PATIENT_CHECKINS_PER_DAY = 1000  # type: ignore[attr-defined]
    client = verified_client(linked)
    minutes = itertools.count()
    for n in range(100):
        with time_machine.travel(MORNING + dt.timedelta(minutes=next(minutes)), tick=False):
            response = client.post(linked.path("patient-checkin"), varied_answers(n))
            assert response.status_code == 302, response.content[:300]
    assert CheckIn.objects.filter(patient=linked.patient).count() == 100
    escalation = Escalation.objects.get(patient=linked.patient)
    assert escalation.level == "urgent"
    # Opened at "contact the clinic", raised once to "urgent": two notes, never one per
    # check-in (the first, still unsent, is superseded by the second).
    notes = Message.objects.filter(patient=linked.patient, kind=MessageKind.TRIAGE_NOTE)
    assert notes.count() == 2
    assert sorted(m.context["level"] for m in notes) == ["contact_clinic", "urgent"]
    # One alert per clinician and owner for the urgent level, not one per urgent check-in.
    alerts = Message.objects.filter(escalation=escalation, kind=MessageKind.CLINICIAN_ALERT)
    assert alerts.count() == 2
    assert set(alerts.values_list("staff_id", flat=True)) == {linked.clinician.pk,
                                                               linked.owner.pk}


def test_past_the_days_limit_the_patient_is_told_whom_to_call(linked: Linked,
                                                              settings: object) -> None:
    settings.PATIENT_CHECKINS_PER_DAY = 12  # type: ignore[attr-defined]
    client = verified_client(linked)
    for n in range(12):
        with time_machine.travel(MORNING + dt.timedelta(minutes=n), tick=False):
            assert client.post(linked.path("patient-checkin"),
                               varied_answers(2 * n)).status_code == 302
    with time_machine.travel(MORNING + dt.timedelta(minutes=30), tick=False):
        response = client.post(linked.path("patient-checkin"), varied_answers(99))
    assert response.status_code == 200
    page = " ".join(response.content.decode().split())
    assert "You have already sent 12 check-ins today" in page
    assert linked.clinic.phone in page
    assert linked.clinic.emergency_number in page
    assert CheckIn.objects.filter(patient=linked.patient).count() == 12
    # The next day counts afresh (the clinic's local day).
    with time_machine.travel(london(2026, 3, 5, 0, 5), tick=False):
        assert client.post(linked.path("patient-checkin"),
                           varied_answers(101)).status_code == 302


def test_the_api_refuses_past_the_limit_with_a_conflict(linked: Linked,
                                                        settings: object) -> None:
    settings.PATIENT_CHECKINS_PER_DAY = 1  # type: ignore[attr-defined]
    api = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {linked.token}",
               "HTTP_X_DATE_OF_BIRTH": linked.patient.date_of_birth.isoformat()}
    body = {"symptoms": {"redness": {"severity": 2, "trend": "better"}},
            "red_flags": dict.fromkeys(RED_FLAGS, False), "note": "first"}
    with time_machine.travel(MORNING, tick=False):
        first = api.post("/api/v1/checkins", body, content_type="application/json",
                         **headers)
        assert first.status_code == 201, first.content
        second = api.post("/api/v1/checkins", {**body, "note": "second"},
                          content_type="application/json", **headers)
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "checkin_limit"

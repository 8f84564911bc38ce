"""While the clinic has a patient's report, the top of their page says so: the latest result
and its advice, what to do now, and how far the clinic has got (sent at, seen by whom, closed
with a note to the patient). Notes to the patient are sent to them; internal notes never
reach them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from needlecare.access import Actor
from needlecare.messaging.models import Message, MessageKind
from needlecare.recovery import services
from needlecare.recovery.models import Escalation, EscalationNote, Outcome
from tests.web.messaging.support import WEEKDAYS_9_TO_5_30, london
from tests.web.recovery.conftest import Linked, answers, signed_days_ago, verified_client

pytestmark = pytest.mark.django_db


def home(client: Client, linked: Linked) -> str:
    response = client.get(linked.path())
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


@pytest.fixture
def saturday_night() -> Linked:
    with time_machine.travel(london(2026, 3, 5, 12, 0), tick=False):
        linked = signed_days_ago(2)
    clinic = linked.clinic
    clinic.opening_hours = WEEKDAYS_9_TO_5_30
    clinic.out_of_hours_name = "NHS 111"
    clinic.out_of_hours_phone = "111"
    clinic.save()
    linked.clinician.first_name, linked.clinician.last_name = "Jo", "Rowe"
    linked.clinician.save()
    return linked


def test_the_page_says_sent_then_seen_then_closed_with_the_note(saturday_night: Linked
                                                                ) -> None:
    linked = saturday_night
    with time_machine.travel(london(2026, 3, 7, 20, 21), tick=False):
        client = verified_client(linked)
        response = client.post(linked.path("patient-checkin"),
                               answers(flags={"pus_or_yellow_crusts"}))
        assert response.status_code == 302
        page = home(client, linked)
        assert "The clinic is closed until Monday at 09:00" in page
        assert "Sent to the clinic at 20:21." in page
        assert "NHS 111" in page
        assert 'href="tel:111"' in page
        assert "has seen it" not in page
    escalation = Escalation.objects.get(patient=linked.patient)
    staff = Actor(user=linked.clinician)

    with time_machine.travel(london(2026, 3, 7, 20, 34), tick=False):
        services.add_escalation_note(staff, escalation.pk, "Internal: check the swab result.")
        services.acknowledge_escalation(staff, escalation.pk,
                                        note_to_patient="I will call you at 9 on Monday.")
        page = home(client, linked)
        assert "Jo Rowe has seen it (20:34)." in page
        assert "I will call you at 9 on Monday." in page
        assert "Internal" not in page

    with time_machine.travel(london(2026, 3, 9, 9, 40), tick=False):
        services.close_escalation(staff, escalation.pk, Outcome.REASSURED,
                                  note="Internal: settled after the call.",
                                  note_to_patient="All looks well; keep to your aftercare.")
        page = home(client, linked)
        assert "Closed by Jo Rowe: All looks well; keep to your aftercare." in page
        assert "Internal" not in page
        assert "The clinic is closed" not in page

    # Checked in again and nothing needs the clinic: the page is back to normal.
    with time_machine.travel(london(2026, 3, 9, 19, 0), tick=False):
        client.post(linked.path("patient-checkin"), answers({"redness": (1, "better")}))
        page = home(client, linked)
        assert "Closed by" not in page
        assert "Sent to the clinic" not in page


def test_notes_to_the_patient_are_sent_and_internal_notes_are_not(saturday_night: Linked
                                                                  ) -> None:
    linked = saturday_night
    with time_machine.travel(london(2026, 3, 7, 20, 21), tick=False):
        client = verified_client(linked)
        client.post(linked.path("patient-checkin"), answers(flags={"pus_or_yellow_crusts"}))
    escalation = Escalation.objects.get(patient=linked.patient)
    staff = Actor(user=linked.clinician)
    with time_machine.travel(london(2026, 3, 7, 20, 34), tick=False):
        services.add_escalation_note(staff, escalation.pk, "Internal only.")
        services.acknowledge_escalation(staff, escalation.pk)
    # Acknowledged without a note: the page says who has seen it; no message is sent.
    assert not Message.objects.filter(kind=MessageKind.ESCALATION_UPDATE).exists()
    with time_machine.travel(london(2026, 3, 9, 9, 40), tick=False):
        services.close_escalation(staff, escalation.pk, Outcome.TREATED, note="Internal too.",
                                  note_to_patient="Seen and treated; come back in a week.")
    updates = Message.objects.filter(kind=MessageKind.ESCALATION_UPDATE)
    assert updates.count() == 1
    assert updates.get().context["state"] == "closed"
    notes = EscalationNote.objects.filter(escalation=escalation)
    assert sorted((n.text, n.to_patient) for n in notes) == [
        ("Internal only.", False), ("Internal too.", False),
        ("Seen and treated; come back in a week.", True)]


def test_the_result_page_says_each_reason_once_and_calls_by_tap(saturday_night: Linked) -> None:
    linked = saturday_night
    with time_machine.travel(london(2026, 3, 5, 20, 0), tick=False):  # day 3, Thursday
        client = verified_client(linked)
        client.post(linked.path("patient-checkin"),
                    answers({"pain": (4, "same")}, flags=()))
    with time_machine.travel(london(2026, 3, 6, 20, 0), tick=False):  # Friday night
        response = client.post(linked.path("patient-checkin"), answers(
            {"pain": (9, "worse")}, flags={"severe_or_increasing_pain"}), follow=True)
    page = " ".join(response.content.decode().split())
    assert page.count("<h2>Why</h2>") == 1
    why = page.split("<h2>Why</h2>")[1].split("</ul>")[0]
    assert why.count("<li>") == 1, why
    assert "Call the clinic the same day if you notice" not in page
    assert "for example 999" not in page
    assert 'href="tel:999"' in page
    assert "Clinic policy" not in page


def test_a_closed_escalation_leaves_the_top_of_the_page_after_a_week(saturday_night: Linked
                                                                     ) -> None:
    linked = saturday_night
    with time_machine.travel(london(2026, 3, 7, 20, 21), tick=False):
        client = verified_client(linked)
        client.post(linked.path("patient-checkin"), answers(flags={"pus_or_yellow_crusts"}))
    escalation = Escalation.objects.get(patient=linked.patient)
    with time_machine.travel(london(2026, 3, 9, 9, 40), tick=False):
        services.close_escalation(Actor(user=linked.clinician), escalation.pk,
                                  Outcome.REASSURED)
        assert "Closed by Jo Rowe" in home(client, linked)
    with time_machine.travel(london(2026, 3, 9, 9, 40) + dt.timedelta(days=8), tick=False):
        client = verified_client(linked, Client())
        assert "Closed by" not in home(client, linked)

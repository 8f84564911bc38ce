"""The patient's own access log on their phone pages: who at the clinic opened their record,
when and why (role and action in plain words), for the last twelve months, read from the audit
trail through the access layer, and audited itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor, audit
from needlecare.audit.models import AuditEvent
from needlecare.errors import NotFound
from needlecare.recovery import links
from needlecare.recovery.access_log import access_log, plain_words
from tests.web.patients.support import client_for
from tests.web.recovery.conftest import Linked, another_patient, verified_client

pytestmark = pytest.mark.django_db


def _entries(client: Client, linked: Linked) -> list[str]:
    page = client.get(linked.path("patient-access-log"))
    assert page.status_code == 200
    return [f"{e.who}|{e.role}|{e.what}" for e in page.context["log"].page.object_list]


def test_the_patient_sees_who_opened_their_record_and_why(linked: Linked) -> None:
    linked.clinician.title = "Aesthetic nurse"
    linked.clinician.save()
    client_for(linked.clinician).get(reverse("patient-detail", args=[linked.patient.pk]))
    client_for(linked.front_desk).get(reverse("patient-detail", args=[linked.patient.pk]))
    phone = verified_client(linked)
    entries = _entries(phone, linked)
    desk = linked.front_desk.get_full_name()
    nurse = f"{linked.clinician.get_full_name()}, Aesthetic nurse"
    assert entries[:2] == [f"{desk}|Front desk|looked at your details",
                           f"{nurse}|Clinician|looked at your details"]
    text = phone.get(linked.path("patient-access-log")).content.decode()
    assert "(front desk) looked at your details." in text
    # Reading the log is in the trail too, as the patient's own access.
    assert AuditEvent.objects.filter(action="patient.access_log", actor_kind="patient",
                                     patient=linked.patient).exists()


def test_refusals_other_patients_and_old_entries_are_not_listed(linked: Linked) -> None:
    other = another_patient(linked)
    clinician = Actor(user=linked.clinician)
    audit(clinician, "consultation.view", patient=other.patient)
    desk = client_for(linked.front_desk)
    desk.get(reverse("consultation-detail", args=[linked.session.plan.consultation_id]))
    old = audit(clinician, "plan.view", patient=linked.patient)
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - dt.timedelta(days=400))
    recent = audit(clinician, "plan.edit", patient=linked.patient)
    AuditEvent.objects.filter(pk=recent.pk).update(at=timezone.now() - dt.timedelta(days=300))
    whats = [e.split("|")[2] for e in _entries(verified_client(linked), linked)]
    assert "changed your treatment plan" in whats  # ten months ago: shown
    assert "read your treatment plan" not in whats  # more than a year ago
    assert "read your consultation" not in whats  # the refused look, and the other patient's


def test_the_link_alone_does_not_open_the_log(linked: Linked) -> None:
    response = Client().get(linked.path("patient-access-log"))
    assert response.status_code == 302
    assert response["Location"] == linked.path("patient-verify")


def test_another_patients_link_shows_only_their_own(linked: Linked) -> None:
    other = another_patient(linked)
    client_for(linked.clinician).get(reverse("patient-detail", args=[linked.patient.pk]))
    whats = [e.split("|")[2] for e in _entries(verified_client(other), other)]
    assert whats == ["sent you a link to these pages"] * len(whats)  # their link, nothing else


def test_staff_cannot_read_a_patients_log_through_the_service(
        journey: dict[str, Any]) -> None:
    with pytest.raises(NotFound):
        access_log(Actor(user=journey["clinician"]))


def test_every_action_has_plain_words() -> None:
    assert plain_words("session.sign") == "signed your treatment record"
    assert plain_words("session.something_new") == "opened your treatment record"
    assert plain_words("unknown.thing") == "opened your record"


def test_a_revoked_link_no_longer_opens_the_log(linked: Linked) -> None:
    phone = verified_client(linked)
    links.revoke_link(Actor(user=linked.clinician), linked.link.pk, "lost phone")
    response = phone.get(linked.path("patient-access-log"))
    assert response.status_code == 410
    assert linked.clinician.last_name not in response.content.decode()

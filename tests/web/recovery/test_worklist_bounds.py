"""The worklist stays bounded (issue 15): at most WORKLIST_SHOWN rows per list, the most
urgent first, with a note when there are more; "due a check-in today" is read through the
(clinic, performed_on) index."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from needlecare.access import Actor
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.recovery import services
from needlecare.recovery.models import Level
from tests.web.recovery.conftest import Linked, another_patient

pytestmark = pytest.mark.django_db


def _escalate(linked: Linked, flag: str) -> None:
    services.submit_checkin(Actor.for_link(linked.link), {
        "symptoms": {}, "red_flags": {code: code == flag for code in RED_FLAGS}, "note": ""})


def test_only_the_most_urgent_escalations_are_shown_when_there_are_too_many(
        linked: Linked, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "WORKLIST_SHOWN", 2)
    for _ in range(3):
        _escalate(another_patient(linked, days=1), "new_dark_patches")
    _escalate(another_patient(linked, days=3), "fever_or_chills")
    listing = services.worklist(Actor(user=linked.clinician))
    assert len(listing.escalations) == 2
    assert "escalations" in listing.more
    # The most severe one is never the one left out.
    severe = {e.level for e in listing.escalations}
    assert Level.URGENT in severe or Level.EMERGENCY in severe, severe
    client = Client()
    client.force_login(linked.clinician)
    page = client.get(reverse("worklist")).content.decode()
    assert "Only the 2 most urgent escalations are shown" in page


def test_due_checkins_are_read_through_the_performed_on_index(linked: Linked) -> None:
    # A clinic's history: sessions on many days (copies of the linked one).
    base = linked.session
    TreatmentSession.objects.bulk_create([
        TreatmentSession(clinic=base.clinic, patient=base.patient, plan=base.plan,
                         status=SessionStatus.SIGNED, scheduled_for=base.scheduled_for,
                         booked_by=base.booked_by,
                         performed_on=base.performed_on - dt.timedelta(days=i))
        for i in range(1, 300)])
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE care_treatmentsession")
            cursor.execute("SET LOCAL enable_seqscan = off")
    today = linked.session.performed_on
    plan = TreatmentSession.objects.filter(
        clinic=linked.clinic, status=SessionStatus.SIGNED,
        performed_on__in=[today]).explain()
    assert "session_performed" in plan, plan

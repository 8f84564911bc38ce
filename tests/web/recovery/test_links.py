"""The patient's personal link: one per patient, for all their care; stored only as a hash;
sent again as the same link; replaced or revoked only by clinicians and owners; locked for new
devices after wrong dates of birth, for a cool-down that doubles, and unlocked by a clinician.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.serializers import serialize
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor, hash_token
from needlecare.accounts.models import User
from needlecare.audit.models import AuditEvent
from needlecare.errors import Conflict, ServiceError
from needlecare.messaging.models import Message, MessageKind
from needlecare.recovery import links
from needlecare.recovery.models import PatientLink
from needlecare.recovery.tokens import LinkState, link_state
from tests.factories import make_clinic, make_user
from tests.web.recovery.conftest import Linked, dob_data, verified_client

pytestmark = pytest.mark.django_db

WRONG = dt.date(1991, 5, 17)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_token_is_never_stored_in_clear(linked: Linked) -> None:
    link = PatientLink.objects.get()
    assert link.token_hash == hash_token(linked.token)
    assert len(linked.token) >= 43  # 32 random bytes, URL-safe base64
    everything = serialize("json", [*PatientLink.objects.all(), *AuditEvent.objects.all()])
    assert linked.token not in everything
    assert linked.url.endswith(f"/p/{linked.token}/")


def test_a_patient_has_one_working_link(linked: Linked) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        PatientLink.objects.create(clinic=linked.clinic, patient=linked.patient,
                                   token_hash="x" * 64)


def test_front_desk_sends_the_same_link_again_and_never_sees_it(linked: Linked) -> None:
    client = login(linked.front_desk)
    page = client.get(reverse("patient-link", args=[linked.patient.pk])).content.decode()
    assert linked.token not in page
    assert "Working" in page
    assert "Replace the link" not in page  # clinicians and owners only
    response = client.post(reverse("link-send", args=[linked.patient.pk]), follow=True)
    assert response.status_code == 200
    assert linked.token not in response.content.decode()
    assert PatientLink.objects.filter(revoked_at__isnull=True).get() == linked.link
    sent = Message.objects.get(kind=MessageKind.PERSONAL_LINK)
    assert sent.link == linked.link
    assert client.post(reverse("link-replace", args=[linked.patient.pk]),
                       {"confirm": "yes"}).status_code == 403
    assert client.post(reverse("link-revoke", args=[linked.link.pk]),
                       {"reason": "lost phone"}).status_code == 403


def test_replacing_stops_the_old_link_and_shows_the_new_one_once(linked: Linked) -> None:
    client = login(linked.clinician)
    refused = client.post(reverse("link-replace", args=[linked.patient.pk]), follow=True)
    assert "Tick the box" in refused.content.decode()
    assert PatientLink.objects.filter(revoked_at__isnull=True).get() == linked.link
    response = client.post(reverse("link-replace", args=[linked.patient.pk]),
                           {"confirm": "yes"})
    assert response["Cache-Control"] == "no-store, private"
    new = PatientLink.objects.filter(revoked_at__isnull=True).get()
    assert new != linked.link
    page = response.content.decode()
    assert "/p/" in page
    assert "shown only now" in page
    assert Client().get(linked.path()).status_code == 410
    linked.link.refresh_from_db()
    assert linked.link.revoked_reason == "Replaced by a new link."
    assert "shown only now" not in client.get(
        reverse("patient-link", args=[linked.patient.pk])).content.decode()


def test_revoking_needs_a_reason_stops_the_link_and_is_audited(linked: Linked) -> None:
    client = login(linked.clinician)
    refused = client.post(reverse("link-revoke", args=[linked.link.pk]), {"reason": ""})
    assert refused.status_code == 200
    linked.link.refresh_from_db()
    assert linked.link.revoked_at is None
    response = client.post(reverse("link-revoke", args=[linked.link.pk]),
                           {"reason": "Patient lost their phone"})
    assert response.status_code == 302
    linked.link.refresh_from_db()
    assert linked.link.revoked_at is not None
    assert AuditEvent.objects.filter(action="link.revoke", object_id=str(linked.link.pk),
                                     detail__reason="Patient lost their phone").exists()
    assert Client().get(linked.path()).status_code == 410
    assert client.get(reverse("link-revoke", args=[linked.link.pk])).status_code == 405


def test_another_clinic_cannot_see_or_change_links(linked: Linked) -> None:
    client = login(make_user(make_clinic(), role="owner"))
    assert client.get(reverse("patient-link", args=[linked.patient.pk])).status_code == 404
    assert client.post(reverse("link-send", args=[linked.patient.pk])).status_code == 404
    assert client.post(reverse("link-replace", args=[linked.patient.pk]),
                       {"confirm": "yes"}).status_code == 404
    assert client.post(reverse("link-revoke", args=[linked.link.pk]),
                       {"reason": "x"}).status_code == 404
    assert client.post(reverse("link-unlock", args=[linked.link.pk])).status_code == 404
    linked.link.refresh_from_db()
    assert linked.link.revoked_at is None


def test_a_link_unused_for_the_clinics_inactivity_period_stops(linked: Linked) -> None:
    linked.clinic.link_inactivity_days = 90
    linked.clinic.save()
    link = PatientLink.objects.select_related("clinic").get()
    assert link_state(link, timezone.now() + dt.timedelta(days=89)) is LinkState.USABLE
    assert link_state(link, timezone.now() + dt.timedelta(days=91)) is LinkState.EXPIRED
    with time_machine.travel(timezone.now() + dt.timedelta(days=91)):
        assert Client().get(linked.path()).status_code == 410
        with pytest.raises(Conflict):
            links.send_link(Actor(user=linked.front_desk), linked.patient.pk)


def test_using_the_link_keeps_it_alive(linked: Linked) -> None:
    start = timezone.now()
    for days in (300, 600):  # each well within a year of the last use
        with time_machine.travel(start + dt.timedelta(days=days)):
            # The device's cookie has lapsed (30 days), not the link: the date of birth again.
            client = verified_client(linked, Client())
            assert client.get(linked.path()).status_code == 200


def _wrong_dates(client: Client, linked: Linked, times: int) -> None:
    for _ in range(times):
        client.post(linked.path("patient-verify"), dob_data(WRONG))


def test_wrong_dates_lock_new_devices_for_a_cool_down_that_doubles(linked: Linked) -> None:
    own_phone = verified_client(linked)
    stranger = Client()
    start = timezone.now()
    _wrong_dates(stranger, linked, 5)
    locked = stranger.get(linked.path("patient-verify"))
    assert locked.status_code == 403
    assert "You can try again after" in locked.content.decode()
    # The patient's own phone, verified before, keeps working.
    assert own_phone.get(linked.path()).status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=16)):
        assert stranger.get(linked.path("patient-verify")).status_code == 200
        _wrong_dates(stranger, linked, 5)
    link = PatientLink.objects.get()
    assert link.lock_count == 2
    assert link.locked_until is not None
    assert link.locked_until - (start + dt.timedelta(minutes=16)) >= dt.timedelta(minutes=29)
    with time_machine.travel(start + dt.timedelta(minutes=40)):
        assert stranger.get(linked.path("patient-verify")).status_code == 403
    failures = AuditEvent.objects.filter(action="link.verify_failed").count()
    assert failures == 10


def test_a_clinician_unlocks_a_locked_link(linked: Linked) -> None:
    stranger = Client()
    _wrong_dates(stranger, linked, 5)
    assert stranger.get(linked.path("patient-verify")).status_code == 403
    assert login(linked.front_desk).post(
        reverse("link-unlock", args=[linked.link.pk])).status_code == 403
    response = login(linked.clinician).post(reverse("link-unlock", args=[linked.link.pk]))
    assert response.status_code == 302
    assert stranger.get(linked.path("patient-verify")).status_code == 200
    response = stranger.post(linked.path("patient-verify"),
                             dob_data(linked.patient.date_of_birth))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="link.unlock").exists()


def test_a_revoked_link_is_not_unlocked(linked: Linked) -> None:
    links.revoke_link(Actor(user=linked.clinician), linked.link.pk, "Lost phone")
    with pytest.raises(ServiceError):
        links.unlock_link(Actor(user=linked.clinician), linked.link.pk)


def test_the_first_message_makes_the_link_and_a_revoked_one_is_not_remade(
        linked: Linked) -> None:
    links.revoke_link(Actor(user=linked.clinician), linked.link.pk, "Lost phone")
    assert links.first_link(linked.patient.pk) is None
    assert not PatientLink.objects.filter(revoked_at__isnull=True).exists()

"""Personal links: made for signed sessions, shown once, stored only as a hash, revocable."""

from __future__ import annotations

import pytest
from django.core.serializers import serialize
from django.test import Client
from django.urls import reverse

from needlecare.access import Actor, hash_token
from needlecare.accounts.models import User
from needlecare.audit.models import AuditEvent
from needlecare.care.models import SessionStatus
from needlecare.errors import ServiceError
from needlecare.recovery import services
from needlecare.recovery.models import PatientLink
from tests.factories import make_clinic, make_user
from tests.web.recovery.conftest import Linked, token_of

pytestmark = pytest.mark.django_db


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


def test_the_link_page_shows_the_link_once(linked: Linked) -> None:
    client = login(linked.clinician)
    response = client.post(reverse("link-new", args=[linked.session.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"
    page = response.content.decode()
    link = PatientLink.objects.order_by("-id").first()
    assert link is not None
    url = next(line for line in page.splitlines() if 'id="patient-link"' in line)
    token = token_of(url.split('value="')[1].split('"')[0])
    assert hash_token(token) == link.token_hash
    assert "will not be shown again" in page
    # Afterwards the session's link page lists the link but never its address.
    listing = client.get(reverse("link-new", args=[linked.session.pk])).content.decode()
    assert token not in listing
    assert "Working" in listing


def test_a_new_link_replaces_the_old_one(linked: Linked) -> None:
    services.issue_link(Actor(user=linked.clinician), linked.session.pk)
    linked.link.refresh_from_db()
    assert linked.link.revoked_at is not None
    assert Client().get(linked.path()).status_code == 410


def test_front_desk_may_issue_a_link_but_only_for_a_signed_session(linked: Linked) -> None:
    client = login(linked.front_desk)
    assert client.post(reverse("link-new", args=[linked.session.pk])).status_code == 200
    linked.session.status = SessionStatus.BOOKED
    linked.session.save()
    before = PatientLink.objects.count()
    response = client.post(reverse("link-new", args=[linked.session.pk]))
    assert response.status_code == 200
    assert "only after the session has been signed" in response.content.decode()
    assert PatientLink.objects.count() == before
    with pytest.raises(ServiceError):
        services.issue_link(Actor(user=linked.front_desk), linked.session.pk)


def test_another_clinic_cannot_see_or_make_links(linked: Linked) -> None:
    outsider = make_user(make_clinic())
    client = login(outsider)
    assert client.get(reverse("link-new", args=[linked.session.pk])).status_code == 404
    assert client.post(reverse("link-new", args=[linked.session.pk])).status_code == 404
    assert client.post(reverse("link-revoke", args=[linked.link.pk])).status_code == 404
    linked.link.refresh_from_db()
    assert linked.link.revoked_at is None


def test_revoking_stops_the_link_and_is_audited(linked: Linked) -> None:
    client = login(linked.front_desk)
    response = client.post(reverse("link-revoke", args=[linked.link.pk]))
    assert response.status_code == 302
    linked.link.refresh_from_db()
    assert linked.link.revoked_at is not None
    assert AuditEvent.objects.filter(action="link.revoke", object_id=str(linked.link.pk)).exists()
    assert Client().get(linked.path()).status_code == 410
    # Revoking again changes nothing.
    first = linked.link.revoked_at
    client.post(reverse("link-revoke", args=[linked.link.pk]))
    linked.link.refresh_from_db()
    assert linked.link.revoked_at == first
    assert client.get(reverse("link-revoke", args=[linked.link.pk])).status_code == 405


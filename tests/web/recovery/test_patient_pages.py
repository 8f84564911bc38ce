"""The patient's phone pages: the link, the date-of-birth gate, today's aftercare."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor
from needlecare.audit.models import AuditEvent
from needlecare.recovery import links
from needlecare.recovery.models import CheckIn, PatientLink
from tests.web.recovery.conftest import (
    NORMAL_DAY_2,
    Linked,
    another_patient,
    answers,
    dob_data,
    verified_client,
)

pytestmark = pytest.mark.django_db

WRONG_DOB = dt.date(1991, 5, 17)


def patient_routes(linked: Linked, checkin_pk: int) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("get", linked.path("patient-home"), {}),
        ("get", linked.path("patient-verify"), {}),
        ("post", linked.path("patient-verify"), dob_data(linked.patient.date_of_birth)),
        ("post", linked.path("patient-checkin"), answers(NORMAL_DAY_2)),
        ("get", linked.path("patient-checkin-result", pk=checkin_pk), {}),
    ]


def send(client: Client, method: str, path: str, data: dict[str, str]) -> HttpResponse:
    return client.post(path, data) if method == "post" else client.get(path)


def test_an_unknown_link_says_so_in_plain_words(db: None) -> None:
    response = Client().get(reverse("patient-home", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "This link does not work. Please call your clinic." in response.content.decode()


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_expired_and_revoked_links_are_refused_on_every_patient_page(linked: Linked,
                                                                     how: str) -> None:
    client = verified_client(linked)
    response = client.post(linked.path("patient-checkin"), answers(NORMAL_DAY_2))
    checkin = CheckIn.objects.get()
    assert response.status_code == 302
    if how == "expired":
        # Not used for longer than the clinic's inactivity period (a year by default).
        PatientLink.objects.filter(pk=linked.link.pk).update(
            created_at=timezone.now() - dt.timedelta(days=400), last_opened_at=None,
            last_verified_at=None)
    else:
        links.revoke_link(Actor(user=linked.clinician), linked.link.pk, "Lost phone")
    for method, path, data in patient_routes(linked, checkin.pk):
        response = send(client, method, path, data)
        assert response.status_code == 410, (method, path)
        page = response.content.decode()
        assert "Please call your clinic" in page
        assert linked.clinic.phone in page
        assert f'href="tel:{linked.clinic.phone.replace(" ", "")}"' in page
    assert CheckIn.objects.count() == 1


def test_a_first_visit_asks_for_the_date_of_birth(linked: Linked) -> None:
    client = Client()
    response = client.get(linked.path())
    assert response.status_code == 302
    assert response["Location"] == linked.path("patient-verify")
    page = client.get(linked.path("patient-verify")).content.decode()
    assert "date of birth" in page
    assert linked.clinic.name in page
    assert linked.clinic.phone in page
    # Nothing about the patient or their treatment is shown before the check.
    assert linked.patient.family_name not in page
    assert "Your aftercare today" not in page


def test_a_wrong_date_of_birth_is_refused(linked: Linked) -> None:
    client = Client()
    response = client.post(linked.path("patient-verify"), dob_data(WRONG_DOB))
    assert response.status_code == 200
    assert "does not match" in response.content.decode()
    assert not any(name.startswith("needlecare_device_") for name in response.cookies)
    assert client.get(linked.path()).status_code == 302
    linked.link.refresh_from_db()
    assert linked.link.failed_dob_attempts == 1
    assert AuditEvent.objects.filter(action="link.verify_failed").count() == 1


def test_a_date_that_does_not_exist_is_not_counted_as_an_attempt(linked: Linked) -> None:
    response = Client().post(linked.path("patient-verify"),
                             {"day": "31", "month": "2", "year": "1990"})
    assert response.status_code == 200
    assert "That date does not exist" in response.content.decode()
    linked.link.refresh_from_db()
    assert linked.link.failed_dob_attempts == 0


def test_five_wrong_dates_lock_the_link_on_new_devices(linked: Linked) -> None:
    client = Client()
    for _ in range(4):
        assert client.post(linked.path("patient-verify"), dob_data(WRONG_DOB)).status_code == 200
    response = client.post(linked.path("patient-verify"), dob_data(WRONG_DOB))
    assert response.status_code == 403
    assert "locked" in response.content.decode()
    # Even the right date no longer opens it on a new device while the lock lasts.
    right = client.post(linked.path("patient-verify"), dob_data(linked.patient.date_of_birth))
    assert right.status_code == 403
    assert Client().get(linked.path()).status_code == 403
    linked.link.refresh_from_db()
    assert linked.link.locked_until is not None
    assert linked.link.lock_count == 1
    # A clinician can replace the link, and the new one works at once.
    issued = links.replace_link(Actor(user=linked.clinician), linked.patient.pk)
    token = issued.url.rstrip("/").rsplit("/", 1)[-1]
    response = Client().post(reverse("patient-verify", args=[token]),
                             dob_data(linked.patient.date_of_birth))
    assert response.status_code == 302


def test_the_right_date_of_birth_remembers_this_device(linked: Linked) -> None:
    client = Client()
    response = client.post(linked.path("patient-verify"), dob_data(linked.patient.date_of_birth))
    assert response.status_code == 302
    assert response["Location"] == linked.path()
    cookie = response.cookies[f"needlecare_device_{linked.link.pk}"]
    assert cookie["httponly"]
    assert cookie["path"] == linked.path()
    assert int(cookie["max-age"]) == 30 * 24 * 60 * 60
    assert linked.token not in cookie.value
    home = client.get(linked.path())
    assert home.status_code == 200
    assert home["Cache-Control"] == "no-store, private"
    # Not "no-referrer": with it browsers send "Origin: null" and CSRF refuses every form.
    assert home["Referrer-Policy"] == "same-origin"
    assert client.get(linked.path("patient-verify")).status_code == 302
    # Another phone is still asked.
    assert Client().get(linked.path()).status_code == 302


def test_a_forged_or_borrowed_device_cookie_is_not_accepted(linked: Linked) -> None:
    other = another_patient(linked)
    client = verified_client(linked)
    cookie = client.cookies[f"needlecare_device_{linked.link.pk}"].value
    thief = Client()
    thief.cookies[f"needlecare_device_{other.link.pk}"] = cookie
    assert thief.get(other.path()).status_code == 302
    thief.cookies[f"needlecare_device_{linked.link.pk}"] = cookie + "x"
    assert thief.get(linked.path()).status_code == 302


def test_the_home_page_shows_todays_aftercare(linked: Linked) -> None:
    page = verified_client(linked).get(linked.path()).content.decode()
    assert "Day 2 after your treatment" in page
    assert "Your aftercare today" in page
    assert "What is normal today" in page
    # Evidence tags are for staff pages; the patient's instructions carry none.
    assert "Clinic policy" not in page
    # The form comes first; the day's aftercare is one tap away below it, collapsed.
    assert page.index('action="' + linked.path("patient-checkin")) < page.index(
        '<details class="aftercare"')
    assert linked.clinic.name in page
    assert linked.clinic.phone in page
    # Every warning sign is asked, every symptom offered, and no script is needed.
    for code in ("breathing_or_throat_swelling", "pus_or_yellow_crusts"):
        assert f'name="flag_{code}"' in page
    assert 'name="redness_severity"' in page
    assert 'name="flags" value="none"' in page
    # No inline script (the page works without any; an enhancement file is loaded).
    assert re.findall(r"<script[^>]*>", page) == [
        '<script src="/static/needlecare/checkin.js" defer>']
    assert AuditEvent.objects.filter(action="patient.home", actor_kind="patient").exists()
    linked.link.refresh_from_db()
    assert linked.link.last_opened_at is not None


def test_after_two_weeks_the_home_page_shows_the_week_block(db: None) -> None:
    from tests.web.recovery.conftest import signed_days_ago

    linked = signed_days_ago(16)
    page = verified_client(linked).get(linked.path()).content.decode()
    assert "Day 16 after your treatment" in page
    assert "Your aftercare (days 15 to 21)" in page


def test_a_link_cannot_reach_another_patients_check_in(linked: Linked) -> None:
    other = another_patient(linked)
    other_client = verified_client(other)
    other_client.post(other.path("patient-checkin"), answers(NORMAL_DAY_2, note="private"))
    theirs = CheckIn.objects.get(patient=other.patient)
    client = verified_client(linked)
    response = client.get(linked.path("patient-checkin-result", pk=theirs.pk))
    assert response.status_code == 404
    assert "private" not in response.content.decode()
    # and the other patient still sees their own
    assert other_client.get(other.path("patient-checkin-result", pk=theirs.pk)).status_code == 200


def test_check_in_needs_the_csrf_token(linked: Linked) -> None:
    client = Client(enforce_csrf_checks=True)
    verified = verified_client(linked)
    client.cookies = verified.cookies
    response = client.post(linked.path("patient-checkin"), answers(NORMAL_DAY_2))
    assert response.status_code == 403
    assert not CheckIn.objects.exists()


def test_check_in_from_an_unverified_phone_goes_to_the_date_of_birth_step(linked: Linked) -> None:
    response = Client().post(linked.path("patient-checkin"), answers(NORMAL_DAY_2))
    assert response.status_code == 302
    assert response["Location"] == linked.path("patient-verify")
    assert not CheckIn.objects.exists()

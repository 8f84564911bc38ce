from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.urls import reverse

from needlecare import settings as project_settings
from needlecare.accounts.models import User
from needlecare.web.middleware import SESSION_KEY
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, username: str, password: str = PASSWORD) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_a_new_password_is_hashed_with_argon2(journey: dict, settings: Any) -> None:
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    new = "plum-orchard-lantern-42"
    owner = Client()
    owner.force_login(journey["owner"])
    owner.post(reverse("staff-new"), {
        "username": "casey", "first_name": "Casey", "last_name": "Moss", "role": "front_desk",
        "password": new, "password_again": new})
    user = User.objects.get(username="casey")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(new)


def test_four_failures_still_let_the_right_password_in(journey: dict) -> None:
    user = journey["clinician"]
    for _attempt in range(4):
        assert _sign_in(Client(), user.username, "wrong-password").status_code == 200
    client = Client()
    assert _sign_in(client, user.username).status_code == 302
    assert _signed_in(client)


def test_five_failures_lock_the_account_even_against_the_right_password(
        journey: dict) -> None:
    user = journey["clinician"]
    for _attempt in range(5):
        _sign_in(Client(), user.username, "wrong-password")
    client = Client()
    response = _sign_in(client, user.username)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not _signed_in(client)


def _start() -> dt.datetime:
    return dt.datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo("Europe/London"))  # a Monday


def test_thirty_idle_minutes_end_the_session(journey: dict) -> None:
    client = Client()
    with time_machine.travel(_start(), tick=False) as clock:
        _sign_in(client, journey["front_desk"].username)
        clock.shift(dt.timedelta(minutes=29))
        assert client.get(reverse("patient-list")).status_code == 200  # still there…
        clock.shift(dt.timedelta(minutes=29))
        assert client.get(reverse("patient-list")).status_code == 200  # …activity renews it
        clock.shift(dt.timedelta(minutes=31))
        response = client.get(reverse("patient-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_busy_session_still_ends_twelve_hours_after_sign_in(journey: dict) -> None:
    client = Client()
    with time_machine.travel(_start(), tick=False) as clock:
        _sign_in(client, journey["front_desk"].username)
        for _step in range(28):  # 28 × 25 minutes = 11 h 40 min of steady work
            clock.shift(dt.timedelta(minutes=25))
            assert client.get(reverse("patient-list")).status_code == 200
        clock.shift(dt.timedelta(minutes=25))  # 12 h 05 min after signing in
        response = client.get(reverse("patient-list"))
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={reverse('patient-list')}"
        login_page = client.get(response["Location"]).content.decode()
    assert "signed out 12 hours after signing in" in login_page
    assert not _signed_in(client)


def test_signing_in_again_starts_a_new_twelve_hours(journey: dict) -> None:
    client = Client()
    with time_machine.travel(_start(), tick=False) as clock:
        _sign_in(client, journey["front_desk"].username)
        clock.shift(dt.timedelta(hours=12, minutes=1))
        _sign_in(client, journey["front_desk"].username)
        assert client.get(reverse("patient-list")).status_code == 200


def test_a_session_signed_in_without_the_form_is_timed_from_its_first_request(
        journey: dict) -> None:
    client = Client()
    with time_machine.travel(_start(), tick=False) as clock:
        client.force_login(journey["front_desk"])
        session = client.session  # a sign-in that left no time behind (older sessions)
        session.pop(SESSION_KEY, None)
        session.save()
        assert client.get(reverse("patient-list")).status_code == 200
        for _step in range(29):
            clock.shift(dt.timedelta(minutes=25))
            response = client.get(reverse("patient-list"))
    assert response.status_code == 302

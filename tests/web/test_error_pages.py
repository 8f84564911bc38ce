"""The error pages: 404, 403, 500 and 503 in the product's style; on a patient's link they
name the clinic's phone and the emergency number without reading the database (from the
signed cookie the link's pages leave); a busy database answers 503 with Retry-After, on pages
and in the API's error shape."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from needlecare.recovery import services as recovery
from tests.web.patients.support import client_for
from tests.web.recovery.conftest import Linked, answers, signed_days_ago, verified_client

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return " ".join(response.content.decode().split())


@contextmanager
def database_down(message: str = "unable to open database file") -> Iterator[None]:
    """Every query of the request fails, as when the database file is gone or locked."""
    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection",
                           side_effect=OperationalError(message)), \
            mock.patch.object(BaseDatabaseWrapper, "_cursor",
                              side_effect=OperationalError(message)):
        yield


@pytest.fixture
def linked(db: None) -> Linked:
    linked = signed_days_ago(2)
    linked.clinic.name = "Harbour Skin Clinic"
    linked.clinic.phone = "020 7946 0000"
    linked.clinic.emergency_number = "112"
    linked.clinic.out_of_hours_name = "Night doctor"
    linked.clinic.out_of_hours_phone = "0800 123 456"
    linked.clinic.save()
    return linked


def test_a_staff_page_that_does_not_exist_is_a_404_in_the_products_style(linked: Linked
                                                                         ) -> None:
    response = client_for(linked.clinician).get("/no-such-page/")
    assert response.status_code == 404
    page = text(response)
    assert "This page does not exist" in page
    assert "Worklist" in page  # the signed-in header


def test_a_refused_role_gets_the_403_page(linked: Linked) -> None:
    response = client_for(linked.front_desk).get("/worklist/")
    assert response.status_code == 403
    assert "You cannot open this page" in text(response)


def test_a_broken_database_on_a_patient_route_still_names_the_clinics_phone(
        linked: Linked) -> None:
    client = verified_client(linked)
    assert client.get(linked.path()).status_code == 200  # leaves the clinic's numbers
    client.raise_request_exception = False
    with database_down():
        response = client.get(linked.path())
    assert response.status_code == 500
    page = text(response)
    assert "Something went wrong on our side" in page
    assert 'href="tel:02079460000"' in page
    assert "Harbour Skin Clinic" in page
    assert 'href="tel:112"' in page
    assert 'href="tel:0800123456"' in page
    assert "<script" not in page
    assert "style=" not in page


def test_without_the_cookie_the_patient_error_page_still_says_what_to_do(linked: Linked
                                                                         ) -> None:
    client = Client(raise_request_exception=False)
    with database_down():
        response = client.get(linked.path())
    assert response.status_code == 500
    page = text(response)
    assert "call your clinic" in page
    assert "your local emergency number" in page


def test_a_locked_database_answers_503_with_retry_after(linked: Linked, settings: Any) -> None:
    settings.DATABASE_BUSY_RETRY_AFTER = 7
    client = verified_client(linked)
    client.get(linked.path())
    client.raise_request_exception = False
    locked = OperationalError("database is locked")
    with mock.patch.object(recovery, "submit_checkin", side_effect=locked):
        response = client.post(linked.path("patient-checkin"), answers())
    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    page = text(response)
    assert "Busy for a moment" in page
    assert 'href="tel:02079460000"' in page


def test_a_database_locked_before_the_view_answers_503_too(linked: Linked) -> None:
    client = verified_client(linked)
    client.get(linked.path())
    client.raise_request_exception = False
    with database_down("database is locked"):
        response = client.get(linked.path())
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "Busy for a moment" in text(response)


def test_the_api_answers_503_in_its_error_shape(linked: Linked) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {linked.token}",
               "HTTP_X_DATE_OF_BIRTH": linked.patient.date_of_birth.isoformat()}
    with mock.patch.object(recovery, "submit_checkin",
                           side_effect=OperationalError("database is locked")):
        response = Client(raise_request_exception=False).post(
            "/api/v1/checkins", {"symptoms": {}, "red_flags": {}, "note": ""},
            content_type="application/json", **headers)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["error"]["code"] == "unavailable"


def test_an_api_request_that_fails_before_the_api_gets_the_api_shape(linked: Linked) -> None:
    with database_down("database is locked"):
        response = Client(raise_request_exception=False).get(
            "/api/v1/patients", HTTP_AUTHORIZATION="Bearer ncapi_nothing")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_another_database_error_is_a_500_not_a_503(linked: Linked) -> None:
    client = verified_client(linked)
    client.raise_request_exception = False
    with mock.patch.object(recovery, "submit_checkin",
                           side_effect=OperationalError("disk I/O error")):
        response = client.post(linked.path("patient-checkin"), answers())
    assert response.status_code == 500
    assert "Retry-After" not in response

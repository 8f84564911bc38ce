"""Limits on what a request may carry: a body over the limit answers 413 (JSON in the API, a
page on the web) before anything reads it, and free-text fields have maximum lengths that the
form shows and enforces."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from needlecare.care.models import TreatmentSession
from needlecare.patients.models import Patient
from tests.factories import make_plan
from tests.web.care.support import book, chart_post, client_for, fresh_clinic

pytestmark = pytest.mark.django_db


def _over_the_limit() -> bytes:
    return b'{"given_name": "' + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'


def test_the_api_answers_a_body_over_the_limit_with_a_json_413(journey: dict) -> None:
    client = client_for(journey["front_desk"])
    response = client.post("/api/v1/patients", data=_over_the_limit(),
                           content_type="application/json",
                           headers={"X-CSRFToken": "unused"})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert error["limit_bytes"] == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert "MB" in error["message"]
    assert not Patient.objects.filter(given_name__startswith="aaaa").exists()


def test_the_api_refuses_by_size_before_authentication() -> None:
    response = Client().post("/api/v1/patients", data=_over_the_limit(),
                             content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_page_answers_a_body_over_the_limit_with_a_friendly_413(journey: dict) -> None:
    client = client_for(journey["front_desk"])
    data = {"given_name": "a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE, "family_name": "Big"}
    response = client.post(reverse("patient-new"), data)
    assert response.status_code == 413
    page = response.content.decode()
    assert "too much to send" in page
    assert "1 MB" in page
    assert not Patient.objects.filter(family_name="Big").exists()


def test_the_openapi_document_lists_413_for_every_operation() -> None:
    document = Client().get("/api/openapi.json").json()
    for item in document["paths"].values():
        for operation in item.values():
            assert "413" in operation["responses"]


@pytest.fixture
def booked(db: None) -> dict[str, Any]:
    world = fresh_clinic()
    world["session"] = book(make_plan(world["consultation"], world["clinician"]),
                            world["front_desk"])
    return world


def test_chart_notes_have_a_limit_that_the_form_shows_and_enforces(booked: dict) -> None:
    client = client_for(booked["clinician"])
    url = reverse("session-detail", args=[booked["session"].pk])
    limit = TreatmentSession._meta.get_field("notes").max_length
    assert limit == 10_000
    page = client.get(url).content.decode()
    assert f'maxlength="{limit}"' in page
    assert f"Up to {limit} characters." in page

    response = client.post(url, chart_post(notes="n" * (limit + 1)))
    assert response.status_code == 200
    assert f"at most {limit} characters" in response.content.decode()
    booked["session"].refresh_from_db()
    assert booked["session"].notes == ""

    client.post(url, chart_post(notes="n" * limit))
    booked["session"].refresh_from_db()
    assert len(booked["session"].notes) == limit


def test_a_patient_link_answers_a_body_over_the_limit_in_the_patients_layout(
        journey: dict) -> None:
    # The patient's phone, not the staff header: what happened, and whom to call.
    response = Client().post("/p/some-token/checkin/",
                             {"note": "a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    assert response.status_code == 413
    page = response.content.decode()
    assert "too much to send" in page
    assert "patient-header" in page
    assert "If you are worried, call your clinic." in page
    assert "Back to the start" not in page  # the staff page's way out
    assert response["Cache-Control"] == "no-store, private"

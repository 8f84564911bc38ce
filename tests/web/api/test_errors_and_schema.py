"""One error shape everywhere, an OpenAPI document that lists every answer, and request
patterns that promise no more than the services accept."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.access import Actor
from needlecare.api.errors import COMMON_ERRORS
from needlecare.api.schemas import EMAIL_PATTERN, PHONE_PATTERN
from needlecare.patients.services import PatientDetails, register_patient
from tests.factories import make_clinic, make_user
from tests.web.api.conftest import World, call, error_of


def openapi() -> dict[str, Any]:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_unknown_addresses_under_the_api_are_json_404(world: World) -> None:
    for path in ["/nothing-here", "/patients/1/extra", "/escalations/1/reopen"]:
        response = call("GET", path, world.tokens["clinician"])
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_a_bug_is_a_logged_json_500(world: World, monkeypatch: pytest.MonkeyPatch,
                                    caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("needlecare.api.patients.services.search_patients", broken)
    with caplog.at_level(logging.ERROR, logger="needlecare.api"):
        response = call("GET", "/patients", world.tokens["clinician"])
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "server_error"
    assert "simulated" not in response.content.decode()
    assert any("simulated bug" in r.getMessage() or (r.exc_info and "simulated bug" in str(
        r.exc_info[1])) for r in caplog.records)


def test_every_operation_documents_its_errors() -> None:
    document = openapi()
    operations = [(path, method, op) for path, item in document["paths"].items()
                  for method, op in item.items()]
    # Ten of patients, check-ins and escalations, the audit trail, the outcomes app's four (a
    # course, an outcome, the patient's answers, the numbers), education's three (the public
    # articles, one article, the sign-up), eight of the diary and six of photos.
    assert len(operations) == 32
    # The clinic's published articles and the newsletter sign-up are public.
    public = {("/api/v1/clinics/{clinic}/articles", "get"),
              ("/api/v1/clinics/{clinic}/articles/{article}", "get"),
              ("/api/v1/clinics/{clinic}/subscriptions", "post")}
    for path, method, op in operations:
        assert path.startswith("/api/v1/")
        for status in COMMON_ERRORS:
            schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)
        assert bool(op.get("security")) == ((path, method) not in public), (path, method)
    conflicts = {(p, m) for p, m, op in operations if "409" in op["responses"]}
    assert ("/api/v1/patients", "post") in conflicts
    assert ("/api/v1/escalations/{escalation_id}/close", "post") in conflicts


def test_the_document_names_each_key_once() -> None:
    """A key written twice (say a response status as 200 and as "200") is legal to Python's
    JSON parser, which keeps the last, but Swagger UI refuses the whole document."""
    def once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
        return dict(pairs)

    json.loads(Client().get("/api/openapi.json").content, object_pairs_hook=once)


def test_scores_keep_their_range_and_requests_refuse_unknown_fields() -> None:
    schemas = openapi()["components"]["schemas"]
    severity = schemas["SymptomAnswer"]["properties"]["severity"]["anyOf"][0]
    assert (severity["type"], severity["minimum"], severity["maximum"]) == ("integer", 0, 10)
    for name in ("PatientIn", "CheckInIn", "SymptomAnswer", "SymptomAnswers", "RedFlagAnswers",
                 "NoteIn", "CloseIn"):
        assert schemas[name]["additionalProperties"] is False, name
    flag = schemas["RedFlagAnswers"]["properties"]["fever_or_chills"]
    assert {"type": "boolean"} in flag["anyOf"]


@settings(max_examples=200)
@given(st.from_regex(EMAIL_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 254))
def test_every_email_the_schema_allows_django_accepts(address: str) -> None:
    if address:
        try:
            validate_email(address)
        except ValidationError:  # pragma: no cover - the failure this test looks for
            pytest.fail(f"{address!r} matches the schema but Django refuses it")


@pytest.mark.django_db
@settings(max_examples=60)
@given(st.from_regex(PHONE_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 40 and s))
def test_every_phone_number_the_schema_allows_registration_accepts(phone: str) -> None:
    clinic = make_clinic()
    actor = Actor(user=make_user(clinic, "front_desk"))
    patient = register_patient(actor, PatientDetails(
        given_name="Kim", family_name="Sample", date_of_birth=dt.date(1985, 3, 4),
        phone=phone), confirm_duplicate=True)
    assert re.sub(r"\D", "", patient.phone) == re.sub(r"\D", "", phone)

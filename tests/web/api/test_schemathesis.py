"""The API against its own OpenAPI document, fuzzed by schemathesis.

Every operation gets generated requests, valid and invalid, sent in-process to the WSGI
application with a clinician's API token (or, for sending a check-in or its photo, the
patient's link token). Each response must be documented (status, content type, JSON schema)
and none may be a server error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from needlecare.access import Actor
from needlecare.api.auth import DATE_OF_BIRTH_HEADER
from needlecare.clock import now
from needlecare.diary.resources import clinic_types
from needlecare.diary.services import Proposal, book
from needlecare.photos.services import Upload, upload_photos
from needlecare.recovery.services import submit_checkin
from needlecare.wsgi import application
from tests.factories import make_photo_consent
from tests.photo_files import good_jpeg
from tests.web.api.conftest import World, all_no
from tests.web.education.support import published_article

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def connection_kept() -> Iterator[None]:
    """Keep the test's transaction open across requests.

    A WSGI request closes "obsolete" database connections when it starts and ends, which
    inside the test's transaction would throw it away. Django's own test client disconnects
    the same handler while it sends a request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def records(world: World, settings: Any, tmp_path: Path) -> dict[str, int]:
    """Real ids of the clinic's records: a check-in that opened an escalation, and a photo
    (stored in a folder of this test's own)."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}
    recorded = submit_checkin(Actor.for_link(world.link),
                              {"red_flags": all_no(fever_or_chills=True), "symptoms": {}})
    assert recorded.escalation is not None
    article = published_article(world)
    kind = next(t for t in clinic_types(world.clinic.pk) if t.kind == "consultation")
    appointment = book(Actor(user=world.front_desk), Proposal(
        patient_id=world.patient.pk, type_id=kind.pk, practitioner_id=world.clinician.pk,
        starts_at=now() + dt.timedelta(days=3)))
    make_photo_consent(world.patient, world.clinician)
    photo = upload_photos(Actor(user=world.clinician), world.patient.pk,
                          [Upload(good_jpeg(), "front")])[0]
    return {"patient_id": world.patient.pk, "checkin_id": recorded.checkin.pk,
            "escalation_id": recorded.escalation.pk, "plan_id": world.session.plan_id,
            "clinic": world.clinic.slug, "article": article.slug,
            "appointment_id": appointment.pk, "type_id": kind.pk,
            "practitioner_id": world.clinician.pk, "photo_id": photo.pk}


def _aim_at_real_records(case: schemathesis.Case, records: dict[str, int]) -> None:
    # Generated ids almost never exist, so only "not found" would be tried. Half of the valid
    # requests (even ids) are pointed at a real record instead; odd ones stay as generated.
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    for name, value in (case.path_parameters or {}).items():
        if name in records and isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = records[name]
        elif name in records and isinstance(value, str) and len(value) % 2 == 0:
            case.path_parameters[name] = records[name]  # a clinic's or an article's slug
    for name, value in (case.query or {}).items():
        if name in records and isinstance(value, int) and value % 2 == 0:
            case.query[name] = records[name]


def _bearer(case: schemathesis.Case, world: World) -> str:
    if case.method.upper() == "POST" and case.path in {"/api/v1/checkins",
                                                       "/api/v1/checkins/{checkin_id}/photos"}:
        return world.link_token
    if case.path == "/api/v1/audit":
        return world.tokens["owner"]  # the audit trail is the owners'
    return world.tokens["clinician"]


def schema_valid_requests_pass_validation(ctx: schemathesis.CheckContext,
                                          response: schemathesis.Response,
                                          case: schemathesis.Case) -> None:
    """Replaces ``positive_data_acceptance``, which refuses any 4xx other than 401, 403, 404 and
    409 for a schema-valid request. A valid document can still break a clinic rule (a text
    message needs a phone number, nobody is born tomorrow): the services answer 422 with their
    own code for that. What must never happen is the API's validation ("invalid") or body
    parsing ("malformed_json") refusing a request its own OpenAPI document allows."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code in (400, 422):
        code = response.json()["error"]["code"]
        assert code not in {"invalid", "malformed_json"}, (
            f"a schema-valid request was refused by validation: {response.text}")


@schema.parametrize()
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
def test_every_response_is_documented_and_none_is_a_server_error(
        case: schemathesis.Case, world: World, records: dict[str, int],
        connection_kept: None) -> None:
    _aim_at_real_records(case, records)
    bearer = _bearer(case, world)
    headers = {"Authorization": f"Bearer {bearer}"}
    if bearer == world.link_token:
        headers[DATE_OF_BIRTH_HEADER] = world.patient.date_of_birth.isoformat()
    case.call_and_validate(headers=headers,
                           excluded_checks=[positive_data_acceptance],
                           additional_checks=[schema_valid_requests_pass_validation])

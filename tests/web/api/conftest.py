"""A clinic for the API tests: one user per role, each with an API token, and a patient two
days after a signed session, holding a personal link. ``call`` sends a JSON request."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from needlecare.access import Actor
from needlecare.accounts.models import Clinic, User
from needlecare.accounts.services import API_TOKEN_PREFIX, issue_api_token
from needlecare.api.auth import DATE_OF_BIRTH_HEADER
from needlecare.care.models import TreatmentSession
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.patients.models import Patient
from needlecare.recovery.links import replace_link
from needlecare.recovery.models import PatientLink
from needlecare.recovery.tokens import find_link
from tests.factories import (
    journey_to_signed_session,
    make_consultation,
    make_patient,
    make_plan,
    make_signed_session,
)


@dataclass
class World:
    clinic: Clinic
    clinician: User
    owner: User
    front_desk: User
    patient: Patient
    session: TreatmentSession
    link: PatientLink
    link_token: str
    tokens: dict[str, str]  # role -> API token


def _token(user: User) -> str:
    return issue_api_token(Actor(user=user), user.pk, "tests").secret


def make_world(days_ago: int = 2) -> World:
    j = journey_to_signed_session()
    session = j["session"]
    if days_ago:
        when = timezone.localdate() - dt.timedelta(days=days_ago)
        session.performed_on = when
        session.scheduled_for = timezone.make_aware(dt.datetime.combine(when, dt.time(10)))
        session.cartridge_expiry = when + dt.timedelta(days=365)
        session.save()
    issued = replace_link(Actor(user=j["clinician"]), session.patient_id)
    token = issued.url.rstrip("/").rsplit("/", 1)[-1]
    return World(clinic=j["clinic"], clinician=j["clinician"], owner=j["owner"],
                 front_desk=j["front_desk"], patient=j["patient"], session=session,
                 link=issued.link, link_token=token,
                 tokens={role: _token(j[role]) for role in ("clinician", "owner", "front_desk")})


def add_patient(world: World, **fields: Any) -> tuple[PatientLink, str]:
    """Another patient of the world's clinic, signed today, with their own link and token."""
    patient = make_patient(world.clinic, world.clinician, **{"given_name": "Robin", **fields})
    plan = make_plan(make_consultation(patient, world.clinician), world.clinician)
    session = make_signed_session(plan, world.clinician)
    issued = replace_link(Actor(user=world.clinician), session.patient_id)
    return issued.link, issued.url.rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture
def world(db: None) -> World:
    return make_world()


@pytest.fixture
def other_world(db: None) -> World:
    """Another clinic, with its own staff and patient."""
    return make_world()


def call(method: str, path: str, token: str | None = None, body: Any = None, *,
         raw: bytes | str | None = None, client: Client | None = None,
         headers: Mapping[str, str] | None = None) -> Any:
    """Send a request to the API; ``body`` is sent as JSON, ``raw`` as it is."""
    client = client or Client()
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
        link = None if token.startswith(API_TOKEN_PREFIX) else find_link(token)
        if link is not None:
            # The patient's app sends the date of birth with the link's token.
            sent.setdefault(DATE_OF_BIRTH_HEADER, link.patient.date_of_birth.isoformat())
    data: Any = raw if raw is not None else (json.dumps(body) if body is not None else None)
    kwargs: dict[str, Any] = {"headers": sent}
    if data is not None and method.upper() != "GET":
        kwargs.update(data=data, content_type="application/json")
    return getattr(client, method.lower())(f"/api/v1{path}", **kwargs)


def all_no(**changes: bool) -> dict[str, bool]:
    """Every warning sign answered "no", except those given."""
    return {**dict.fromkeys(RED_FLAGS, False), **changes}


NORMAL_DAY_2: dict[str, Any] = {
    "symptoms": {"redness": {"severity": 3, "trend": "better"},
                 "swelling": {"severity": 2, "trend": "better"}},
    "red_flags": all_no(),
    "note": "",
}


def error_of(response: Any) -> dict[str, Any]:
    """The error document, checking its shape."""
    assert response["Content-Type"].startswith("application/json"), response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]  # type: ignore[no-any-return]

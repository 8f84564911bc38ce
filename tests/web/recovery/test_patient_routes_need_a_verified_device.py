"""The personal link's token alone never opens a patient's data.

Every address under ``/p/<token>/`` is found from the URL configuration itself (so a page added
later is covered without editing this test) and opened, by GET and by POST, from a device that
has not given the date of birth: each answers with a redirect to the date-of-birth page and
nothing of the patient.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from needlecare.recovery.models import CheckIn
from tests.web.recovery.conftest import NORMAL_DAY_2, Linked, answers, verified_client

pytestmark = pytest.mark.django_db

PREFIX = "p/<str:token>/"


def _patterns(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def patient_routes() -> list[tuple[str, str]]:
    return sorted((entry.name, route) for route, entry in _patterns(get_resolver().url_patterns)
                  if route.startswith(PREFIX))


def test_the_walk_finds_the_patient_pages() -> None:
    names = {name for name, _ in patient_routes()}
    assert {"patient-home", "patient-verify", "patient-checkin", "patient-checkin-result",
            "patient-aftercare-pdf", "patient-calendar"} <= names


def _address(linked: Linked, name: str, route: str, checkin_pk: int) -> str:
    kwargs: dict[str, Any] = {"token": linked.token}
    if "<int:pk>" in route:
        kwargs["pk"] = checkin_pk
    if "<str:size>" in route:
        kwargs["size"] = "thumbnail"  # a photo's file (photos app)
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_patient_page_refuses_a_device_that_has_not_given_the_date_of_birth(
        linked: Linked, method: str) -> None:
    verified_client(linked).post(linked.path("patient-checkin"), answers(NORMAL_DAY_2))
    checkin = CheckIn.objects.get()
    stranger = Client()
    for name, route in patient_routes():
        if name == "patient-verify":
            continue  # the one page that asks for it
        address = _address(linked, name, route, checkin.pk)
        response = getattr(stranger, method)(address, answers(NORMAL_DAY_2)
                                             if method == "post" else None)
        if response.status_code == 405:
            continue  # the page does not take this method at all
        assert response.status_code == 302, (method, address, response.status_code)
        assert response["Location"] == linked.path("patient-verify"), (method, address)
        assert linked.patient.given_name not in response.content.decode()
    assert CheckIn.objects.count() == 1

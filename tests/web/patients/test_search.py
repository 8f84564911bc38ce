from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from needlecare.audit.models import AuditEvent
from tests.factories import journey_to_signed_session, make_patient
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(journey: dict) -> dict[str, Any]:
    clinic, by = journey["clinic"], journey["clinician"]
    return {
        "zoe": make_patient(clinic, by, given_name="Zoë", family_name="Ørsted",
                            date_of_birth=dt.date(1975, 12, 1), phone="+44 7700 900111"),
        "ada": make_patient(clinic, by, given_name="Ada", family_name="Lovelace",
                            date_of_birth=dt.date(1991, 6, 18), phone="(0161) 496-0000"),
        "adam": make_patient(clinic, by, given_name="Adam", family_name="Smith",
                             date_of_birth=dt.date(1960, 1, 2), phone="07700 900222"),
    }


def _names(response: Any) -> set[str]:
    return {p.full_name for p in response.context["page"].object_list}


def _search(journey: dict, query: str) -> Any:
    return client_for(journey["front_desk"]).get(reverse("patient-list"), {"q": query})


@pytest.mark.parametrize(("query", "expected"), [
    ("ada", {"Ada Lovelace", "Adam Smith"}),
    ("LOVE", {"Ada Lovelace"}),
    ("lovelace ada", {"Ada Lovelace"}),
    ("zoë ørsted", {"Zoë Ørsted"}),
    ("ZOË", {"Zoë Ørsted"}),
    ("1991-06-18", {"Ada Lovelace"}),
    ("18/06/1991", {"Ada Lovelace"}),
    ("07700 900111", {"Zoë Ørsted"}),
    ("+447700900111", {"Zoë Ørsted"}),
    ("0161 4960000", {"Ada Lovelace"}),
    ("900222", {"Adam Smith"}),
    ("nobody", set()),
])
def test_search_by_name_date_of_birth_or_phone(journey: dict, people: dict, query: str,
                                               expected: set[str]) -> None:
    assert _names(_search(journey, query)) == expected


def test_search_never_shows_another_clinics_patients(journey: dict, people: dict) -> None:
    other = journey_to_signed_session()
    make_patient(other["clinic"], other["clinician"], given_name="Ada", family_name="Other")
    assert "Ada Other" not in _names(_search(journey, "ada"))
    assert "Ada Other" not in _names(_search(journey, ""))


def test_each_search_writes_one_audit_row_with_the_query_and_the_ids_shown(
        journey: dict, people: dict) -> None:
    _search(journey, "ada")
    event = AuditEvent.objects.get(action="patient.search")
    assert event.actor == journey["front_desk"]
    assert event.patient is None
    assert event.clinic == journey["clinic"]
    assert event.detail["query"] == "ada"
    assert sorted(event.detail["patient_ids"]) == sorted([people["ada"].pk, people["adam"].pk])


def test_the_list_is_paginated_by_25_and_pages_keep_the_query(journey: dict) -> None:
    for n in range(30):
        make_patient(journey["clinic"], journey["clinician"], given_name="Kim",
                     family_name=f"Page{n:02}")
    client = client_for(journey["front_desk"])
    first = client.get(reverse("patient-list"), {"q": "kim"})
    assert len(first.context["page"].object_list) == 25
    page = first.content.decode()
    next_link = re.search(r'href="(\?[^"]*)" rel="next"', page)
    assert next_link is not None
    assert next_link.group(1) == "?q=kim&amp;page=2"

    second = client.get(reverse("patient-list"), {"q": "kim", "page": "2"})
    assert len(second.context["page"].object_list) == 5
    assert 'rel="prev"' in second.content.decode()
    shown = [e.detail["patient_ids"] for e in AuditEvent.objects.filter(
        action="patient.search").order_by("id")]
    assert [len(ids) for ids in shown] == [25, 5]


def test_a_nonsense_page_number_shows_a_page_not_an_error(journey: dict) -> None:
    response = client_for(journey["front_desk"]).get(reverse("patient-list"), {"page": "abc"})
    assert response.status_code == 200
    response = client_for(journey["front_desk"]).get(reverse("patient-list"), {"page": "999"})
    assert response.status_code == 200


def _list_queries(journey: dict, count: int) -> int:
    for n in range(count):
        make_patient(journey["clinic"], journey["clinician"], family_name=f"Bulk{n:03}")
    client = client_for(journey["front_desk"])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("patient-list")).status_code == 200
    return len(queries)


def test_the_list_runs_the_same_queries_for_5_or_60_patients() -> None:
    few = _list_queries(journey_to_signed_session(), 5)
    many = _list_queries(journey_to_signed_session(), 60)
    assert few == many, (few, many)
    assert many <= 14, many

"""Patient search through indexes (issue 15): names by their matching key anywhere in the name
(look-alike letters, accents and case folded), phone numbers by digits anywhere in the number,
dates of birth by equality; the query plans show the indexes in use on either database, and
the page reads the same number of queries whatever the number of patients."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from needlecare.access import Actor
from needlecare.patients import search
from needlecare.patients.models import Patient
from needlecare.patients.services import PatientDetails, search_patients, update_patient
from tests.factories import journey_to_signed_session, make_patient
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db

CYRILLIC_O = "\u043e"


def _found(journey: dict, query: str) -> set[str]:
    result = search_patients(Actor(user=journey["front_desk"]), query)
    return {p.full_name for p in result.page.object_list}


@pytest.fixture
def robin(journey: dict) -> Patient:
    return make_patient(journey["clinic"], journey["clinician"], given_name="Robin",
                        family_name="Ångström", phone="+44 7700 900456")


@pytest.mark.parametrize("query", [
    f"R{CYRILLIC_O}bin",  # a look-alike letter of another script
    "robin", "ROBIN", "obi", "rob ang", "angstrom", "ÅNGSTRÖM", "ngstr",
    "7700 900456", "900456", "447700", "0 7700 900 456",
])
def test_search_finds_a_patient_by_any_part_of_the_name_or_phone(
        journey: dict, robin: Patient, query: str) -> None:
    assert "Robin Ångström" in _found(journey, query)


def test_a_name_stored_with_a_look_alike_letter_is_found_by_the_latin_one(journey: dict) -> None:
    make_patient(journey["clinic"], journey["clinician"], given_name=f"R{CYRILLIC_O}bin",
                 family_name="Quill")
    assert _found(journey, "robin quill") == {f"R{CYRILLIC_O}bin Quill"}


@pytest.mark.parametrize("query", ["robinx", "900457", "angstrom robin smith"])
def test_search_does_not_find_what_is_not_there(journey: dict, robin: Patient,
                                                query: str) -> None:
    assert "Robin Ångström" not in _found(journey, query)


def test_short_words_still_narrow_the_search(journey: dict, robin: Patient) -> None:
    make_patient(journey["clinic"], journey["clinician"], given_name="Robin", family_name="Xu")
    assert _found(journey, "robin xu") == {"Robin Xu"}
    assert _found(journey, "xu") == {"Robin Xu"}


def test_the_index_follows_edits_and_erasure_of_a_name_or_number(
        journey: dict, robin: Patient) -> None:
    update_patient(Actor(user=journey["clinician"]), robin.pk, PatientDetails(
        given_name="Robyn", family_name="Ångström", date_of_birth=robin.date_of_birth,
        phone="07700 900999"))
    assert "Robyn Ångström" in _found(journey, "robyn")
    assert "Robyn Ångström" in _found(journey, "900999")
    assert not _found(journey, "robin") & {"Robin Ångström", "Robyn Ångström"}
    assert not _found(journey, "900456")
    # Erasure (rights/services.py) changes the name through the same model save.
    gone = make_patient(journey["clinic"], journey["clinician"], given_name="Gone",
                        family_name="Away")
    Patient.objects.filter(pk=gone.pk).delete()
    assert not _found(journey, "gone away")


def test_patients_loaded_in_bulk_are_found(journey: dict) -> None:
    Patient.objects.bulk_create([
        Patient(clinic=journey["clinic"], created_by=journey["clinician"], given_name="Bulk",
                family_name=f"Loaded{n}", name_key=f"bulk loaded{n}",
                date_of_birth=dt.date(1980, 1, 1), phone_digits=f"0770090{n:04}")
        for n in range(3)])
    assert _found(journey, "loaded1") == {"Bulk Loaded1"}
    assert _found(journey, "7700900002") == {"Bulk Loaded2"}


# -- query plans ------------------------------------------------------------------------


def _crowd(journey: dict, n: int = 150) -> None:
    Patient.objects.bulk_create([
        Patient(clinic=journey["clinic"], created_by=journey["clinician"], given_name="Sam",
                family_name=f"Crowd{i}", name_key=f"sam crowd{i}",
                date_of_birth=dt.date(1950, 1, 1) + dt.timedelta(days=i),
                phone_digits=f"07700{i:06}")
        for i in range(n)])


def _plan(journey: dict, query: str) -> str:
    """The plans of every query a search runs: on SQLite the FTS5 probe (run while the query
    set is built) and the page; on PostgreSQL the page."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE patients_patient")
            # On a few hundred rows a scan is cheapest; the plan must show the index can serve.
            cursor.execute("SET LOCAL enable_seqscan = off")
    with CaptureQueriesContext(connection) as probes:
        _kind, queryset = search.matching(
            Patient.objects.filter(clinic=journey["clinic"]), query)
    plans = []
    with connection.cursor() as cursor:
        for probe in probes.captured_queries:
            cursor.execute(f"EXPLAIN QUERY PLAN {probe['sql']}")
            plans.append(" ".join(str(row) for row in cursor.fetchall()))
    plans.append(queryset.order_by("family_name", "given_name", "id")[:26].explain())
    return "\n".join(plans)


def _index_name(*fields: str) -> str:
    return next(index.name for index in Patient._meta.indexes
                if tuple(index.fields) == fields)


def _varied(journey: dict, n: int) -> list[Patient]:
    """Patients with varied names and numbers, as in a real clinic (a shared prefix would make
    every trigram common, and the clinic's own index the cheaper way)."""
    rnd = random.Random(15)
    letters = "abcdefghijklmnopqrstuvwxyz"
    people = []
    for _ in range(n):
        family = "".join(rnd.choice(letters) for _ in range(8))
        phone = "07" + "".join(rnd.choice("0123456789") for _ in range(9))
        people.append(Patient(clinic=journey["clinic"], created_by=journey["clinician"],
                              given_name="Sam", family_name=family.title(),
                              name_key=f"sam {family}", date_of_birth=dt.date(1980, 1, 1),
                              phone=phone, phone_digits=phone))
    return Patient.objects.bulk_create(people)


@pytest.mark.parametrize(("query", "postgres_uses"), [
    (lambda p: p.family_name, "patient_name_key_trgm"),
    (lambda p: f"sam {p.family_name[2:]}", "patient_name_key_trgm"),
    (lambda p: p.phone[3:], "patient_phone_digits_trgm"),
])
def test_name_and_phone_searches_use_the_trigram_index(
        journey: dict, query: Any, postgres_uses: str) -> None:
    wanted = _varied(journey, 3000)[123]
    plan = _plan(journey, query(wanted))
    if connection.vendor == "sqlite":
        # The FTS5 table finds the ids; the page reads them by primary key.
        assert "SCAN patients_patient_search VIRTUAL TABLE INDEX" in plan, plan
        assert "SEARCH patients_patient USING INTEGER PRIMARY KEY" in plan, plan
    else:
        assert postgres_uses in plan, plan
    assert wanted.full_name in _found(journey, query(wanted))


def test_a_date_of_birth_search_uses_the_clinic_and_birthday_index(journey: dict) -> None:
    _crowd(journey)
    plan = _plan(journey, "1950-01-13")
    assert _index_name("clinic", "date_of_birth") in plan, plan


# -- a page that does not grow with the data ---------------------------------------------


def _page_queries(count: int, query: str) -> tuple[int, int]:
    journey = journey_to_signed_session()
    _crowd(journey, count)
    client = client_for(journey["front_desk"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("patient-list"), {"q": query})
    assert response.status_code == 200
    assert "page" in response.context
    return len(queries), len(response.context["page"].object_list)


@pytest.mark.parametrize("query", ["", "crowd", "1950-01-02", "07700"])
def test_a_search_page_reads_the_same_queries_for_30_or_300_patients(query: str) -> None:
    few, shown_few = _page_queries(30, query)
    many, shown_many = _page_queries(300, query)
    assert few == many, (few, many)
    assert shown_many >= shown_few


def test_the_list_shows_a_next_page_without_counting(journey: dict) -> None:
    _crowd(journey, 60)
    client = client_for(journey["front_desk"])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("patient-list"), {"q": "crowd"}).content.decode()
    assert 'rel="next"' in page
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
    last = client.get(reverse("patient-list"), {"q": "crowd", "page": "3"}).content.decode()
    assert 'rel="next"' not in last
    assert 'rel="prev"' in last


def test_a_broad_search_finds_the_same_patients_as_a_narrow_one(
        journey: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    _crowd(journey, 40)
    narrow = _found(journey, "crowd")
    # More matches than BROAD: the search walks the names in order instead of sorting them.
    monkeypatch.setattr(search, "BROAD", 5)
    assert _found(journey, "crowd") == narrow
    assert len(narrow) == 25
    assert _found(journey, "crowd3") == {"Sam Crowd3", *(f"Sam Crowd3{i}" for i in range(10))}

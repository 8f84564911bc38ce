"""The diary's pages: the grids name every slot, read in a fixed number of queries, book from
a free slot with plain forms, and show a refusal with its rule and earliest safe date."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from needlecare.diary.models import Appointment, AppointmentKind, AppointmentStatus
from tests.factories import make_patient, make_signed_session
from tests.web.diary.support import Diary, london
from tests.web.patients.support import client_for

SLOT = re.compile(r'<a class="slot (free|taken)[^"]*" href="([^"]+)" aria-label="([^"]+)"')


def slots(page: str) -> list[tuple[str, str, str]]:
    return SLOT.findall(page)


def test_every_slot_of_the_week_names_practitioner_day_time_and_state(diary: Diary) -> None:
    diary.book(london(2026, 3, 3, 10, 0))
    page = client_for(diary.desk).get(reverse("diary-week"), {
        "practitioner": diary.jo.pk, "date": "2026-03-02"}).content.decode()
    found = slots(page)
    assert len(found) == 5 * 34  # Monday to Friday, 09:00–17:30 in 15-minute rows
    labels = [label for _state, _href, label in found]
    assert "Jo Rowe, Monday 2 March, 09:00, free" in labels
    assert "Jo Rowe, Tuesday 3 March, 10:00, taken: Morgan Fairweather, Consultation" in labels
    assert "Jo Rowe, Tuesday 3 March, 10:15, taken: Morgan Fairweather, Consultation" in labels
    assert "Jo Rowe, Saturday 7 March, 09:00, not working" in page  # closed cells say so too
    free = next(href for state, href, label in found if label.startswith(
        "Jo Rowe, Wednesday 4 March, 11:30"))
    assert free.startswith(reverse("diary-book"))


def test_the_week_and_the_day_cost_the_same_queries_however_full(diary: Diary) -> None:
    client = client_for(diary.desk)

    def queries(url: str, params: dict[str, Any]) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params).status_code == 200
        return len(captured)

    week = {"practitioner": diary.jo.pk, "date": "2026-03-02"}
    before = (queries(reverse("diary-week"), week), queries(reverse("diary-day"),
                                                           {"date": "2026-03-03"}))
    for day in (2, 3, 4):
        for hour in (9, 11, 13, 15):
            patient = make_patient(diary.clinic, diary.jo)
            diary.book(london(2026, 3, day, hour), patient=patient)
            diary.book(london(2026, 3, day, hour), patient=make_patient(diary.clinic, diary.jo),
                       practitioner=diary.sam) if day in (3, 4) and hour in (11, 13) else None
    after = (queries(reverse("diary-week"), week), queries(reverse("diary-day"),
                                                          {"date": "2026-03-03"}))
    assert after == before


def test_the_desk_books_from_a_free_slot_with_plain_forms(diary: Diary) -> None:
    client = client_for(diary.desk)
    start = london(2026, 3, 4, 11, 30).isoformat()
    page = client.get(reverse("diary-book"), {"start": start, "practitioner": diary.jo.pk,
                                              "q": "Fairweather"}).content.decode()
    assert "Book for Morgan Fairweather" in page
    form = client.get(reverse("diary-book"), {"start": start, "practitioner": diary.jo.pk,
                                              "patient": diary.patient.pk}).content.decode()
    assert 'value="2026-03-04T11:30"' in form
    consultation = diary.type(AppointmentKind.CONSULTATION)
    response = client.post(reverse("diary-book"), {
        "patient": diary.patient.pk, "start": start, "type": consultation.pk,
        "practitioner": diary.jo.pk, "starts_at": "2026-03-04T11:30"})
    appointment = Appointment.objects.get()
    assert response["Location"] == reverse("appointment-detail", args=[appointment.pk])
    assert appointment.starts_at == london(2026, 3, 4, 11, 30)
    # The same slot again: refused on the form, named.
    again = client.post(reverse("diary-book"), {
        "patient": diary.patient.pk, "type": consultation.pk, "practitioner": diary.jo.pk,
        "starts_at": "2026-03-04T11:30"}).content.decode()
    assert "slot_taken" in again or "practitioner_busy" in again


def test_a_session_too_early_shows_the_rule_and_the_earliest_safe_date(diary: Diary) -> None:
    make_signed_session(diary.plan, diary.jo, performed_on=dt.date(2026, 2, 23))
    client = client_for(diary.jo)
    url = reverse("session-book", args=[diary.plan.pk])
    page = client.get(url).content.decode()
    assert "Monday 23 March 2026" in page  # the earliest safe date, and slots from then
    refused = client.post(url, {"practitioner": diary.jo.pk,
                                "starts_at": "2026-03-09T10:00"}).content.decode()
    assert "min_interval" in refused
    assert "Earliest safe date: <strong>Monday 23 March 2026</strong>" in refused
    booked = client.post(url, {"practitioner": diary.jo.pk, "starts_at": "2026-03-09T10:00",
                               "override_reason": "Light session on the forehead only."})
    assert booked.status_code == 302
    assert Appointment.objects.get().override_rules == ["min_interval"]


def test_moving_from_the_week_grid(diary: Diary) -> None:
    appointment = diary.book(london(2026, 3, 4, 10, 0))
    client = client_for(diary.desk)
    grid = client.get(reverse("appointment-move", args=[appointment.pk])).content.decode()
    target = next(href for state, href, label in slots(grid)
                  if label == "Jo Rowe, Thursday 5 March, 14:00, free")
    chosen = client.get(target.replace("&amp;", "&")).content.decode()
    assert 'value="2026-03-05T14:00"' in chosen
    client.post(reverse("appointment-move", args=[appointment.pk]), {
        "starts_at": "2026-03-05T14:00", "practitioner": diary.jo.pk})
    appointment.refresh_from_db()
    assert appointment.starts_at == london(2026, 3, 5, 14, 0)


def test_today_is_the_desks_home_with_late_patients_and_the_rooms(diary: Diary) -> None:
    late = diary.book(london(2026, 3, 2, 9, 0))
    inside = diary.book(london(2026, 3, 2, 9, 0), practitioner=diary.owner,
                        patient=make_patient(diary.clinic, diary.jo, given_name="Robin"))
    with time_machine.travel(london(2026, 3, 2, 9, 20), tick=False):
        from needlecare.diary import services

        services.set_status(diary.actor(), inside.pk, AppointmentStatus.ARRIVED)
        services.set_status(diary.actor(), inside.pk, AppointmentStatus.IN_PROGRESS)
        client = client_for(diary.desk)
        assert client.get(reverse("home"))["Location"] == reverse("diary-today")
        page = client.get(reverse("diary-today")).content.decode()
    assert "Room B</strong>: Robin" in page or "Room A</strong>: Robin" in page
    assert re.search(r'class="overdue"><a href="[^"]+">Morgan Fairweather</a>', page)
    assert late.pk


@pytest.mark.parametrize("role", ["front_desk", "clinician"])
def test_the_patients_page_shows_their_appointments(diary: Diary, role: str) -> None:
    diary.book(london(2026, 3, 4, 10, 0))
    user = diary.desk if role == "front_desk" else diary.jo
    page = client_for(user).get(reverse("patient-detail",
                                        args=[diary.patient.pk])).content.decode()
    assert "Wednesday 4 March 2026, 10:00" in page
    assert reverse("diary-book") + f"?patient={diary.patient.pk}" in page

"""Safe at any hour, in a real browser at 390 × 844 with the server's clock held (time-machine
moves the clock of this process, and the live server runs in it):

- a red flag at 20:21 on a Saturday: the page says the clinic is closed until Monday 09:00,
  whom to call meanwhile and the emergency number, each a tap-to-call link; the worklist shows
  the deadline at opening, marked out of hours;
- the patient's page says "seen by" once a clinician acknowledges;
- a normal day-2 check-in with "None of these" takes at most 10 taps and keystrokes after the
  date of birth, the page above the send button is at most 2.5 screens, and it works with
  JavaScript off too;
- with the database failing, a patient's link still shows the clinic's phone (500 page).

axe-core finds no serious or critical violation on any of these pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from playwright.sync_api import Page, expect

from needlecare.access import Actor
from needlecare.accounts.models import Role
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.recovery.links import replace_link
from needlecare.recovery.models import CheckIn, Escalation, Level
from tests.e2e.support import (
    answer_red_flags,
    escalation_rows,
    horizontal_overflow,
    screenshot,
    serious_violations,
    sign_in,
)
from tests.factories import (
    healthy_intake,
    make_clinic,
    make_consent,
    make_consultation,
    make_patient,
    make_plan,
    make_signed_session,
    make_user,
)
from tests.web.care.support import book
from tests.web.messaging.support import WEEKDAYS_9_TO_5_30, london

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLINIC_PHONE = "020 7946 0000"
SATURDAY_NIGHT = london(2026, 3, 7, 20, 21)
SCREEN = 844


def check(page: Page, what: str) -> None:
    assert serious_violations(page) == [], what
    assert horizontal_overflow(page) == 0, f"{what} scrolls sideways"


def clinic_world(performed_on: dt.date) -> dict[str, Any]:
    clinic = make_clinic(name="Harbour Skin Clinic", phone=CLINIC_PHONE,
                         opening_hours=WEEKDAYS_9_TO_5_30, emergency_number="999",
                         out_of_hours_name="NHS 111", out_of_hours_phone="111")
    clinician = make_user(clinic, Role.CLINICIAN, username="dr.rowe", first_name="Jo",
                          last_name="Rowe")
    patient = make_patient(clinic, clinician, given_name="Avery", family_name="Lindqvist",
                           date_of_birth=dt.date(1986, 11, 2))
    make_consent(patient, clinician)
    plan = make_plan(make_consultation(patient, clinician), clinician)
    session = make_signed_session(plan, clinician, performed_on=performed_on)
    url = replace_link(Actor(user=clinician), patient.pk).url
    return {"clinic": clinic, "clinician": clinician, "patient": patient, "session": session,
            "url": url}


def verify(phone: Page, url: str, born: dt.date) -> None:
    phone.goto(url)
    phone.get_by_label("Day").fill(str(born.day))
    phone.get_by_label("Month").select_option(str(born.month))
    phone.get_by_label("Year").fill(str(born.year))
    phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_role("heading", name="How are you today?")).to_be_visible()


def test_a_red_flag_on_a_saturday_night_says_whom_to_call_and_is_due_at_opening(
        phone390: Page, desk: Page) -> None:
    phone = phone390
    with time_machine.travel(SATURDAY_NIGHT, tick=True):
        world = clinic_world(dt.date(2026, 3, 5))
        verify(phone, world["url"], world["patient"].date_of_birth)
        check(phone, "today's page")
        answer_red_flags(phone, yes={"pus_or_yellow_crusts"})
        phone.get_by_role("button", name="Send to the clinic").click()

        heading = phone.get_by_role("heading", level=1)
        expect(heading).to_have_text("The clinic is closed until Monday at 09:00")
        ooh = phone.get_by_role("link", name="Call NHS 111: 111")
        expect(ooh).to_have_attribute("href", "tel:111")
        expect(phone.get_by_role("link", name="call 999 now")).to_have_attribute(
            "href", "tel:999")
        expect(phone.get_by_text("Sent to the clinic at 20:21.")).to_be_visible()
        assert "call you back today" not in phone.content()
        screenshot(phone, "safe-01-saturday-night-result")
        check(phone, "urgent result, clinic closed")

        escalation = Escalation.objects.get(patient=world["patient"])
        assert escalation.opened_out_of_hours
        assert escalation.deadline == london(2026, 3, 9, 9, 0)

        sign_in(desk, "dr.rowe")
        desk.get_by_role("link", name="Worklist").click()
        row = escalation_rows(desk).filter(has_text="Avery Lindqvist")
        expect(row).to_contain_text("Mon 9 Mar, 09:00")
        expect(row).to_contain_text("Out of hours: due at opening")
        screenshot(desk, "safe-02-worklist-due-at-opening")
        check(desk, "worklist")


def test_the_patients_page_says_seen_by_once_a_clinician_acknowledges(phone390: Page,
                                                                      desk: Page) -> None:
    phone = phone390
    with time_machine.travel(SATURDAY_NIGHT, tick=True):
        world = clinic_world(dt.date(2026, 3, 5))
        verify(phone, world["url"], world["patient"].date_of_birth)
        answer_red_flags(phone, yes={"fever_or_chills"})
        phone.get_by_role("button", name="Send to the clinic").click()
        expect(phone.get_by_role("heading", level=1)).to_contain_text("closed until")

    with time_machine.travel(london(2026, 3, 7, 20, 34), tick=True):
        sign_in(desk, "dr.rowe")
        desk.get_by_role("link", name="Worklist").click()
        escalation_rows(desk).filter(has_text="Avery Lindqvist").get_by_role(
            "link", name="Avery Lindqvist").click()
        check(desk, "escalation page")
        desk.get_by_label("Note to the patient (optional)").first.fill(
            "I will call you at 9 on Monday. If you feel very unwell, call 111.")
        desk.get_by_role("button", name="Acknowledge: I am dealing with this").click()
        expect(desk.get_by_text("Acknowledged. The escalation is yours to follow up.")
               ).to_be_visible()

        phone.get_by_role("link", name="Back to today’s page").click()
        expect(phone.get_by_text("Jo Rowe has seen it (20:34).")).to_be_visible()
        expect(phone.get_by_text("I will call you at 9 on Monday.", exact=False)).to_be_visible()
        screenshot(phone, "safe-03-seen-by")
        check(phone, "today's page with the clinic's answer")


class Taps:
    """Counts what the patient does: each tap is one, each typed character one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    def tap(self, selector: str) -> None:
        self.page.locator(selector).check() if selector.startswith("input") \
            else self.page.locator(selector).click()
        self.count += 1


def normal_day_two(page: Page, taps: Taps) -> None:
    taps.tap("input[name=flags][value=none]")
    for code, severity in (("redness", 3), ("swelling", 2), ("pain", 2)):
        taps.tap(f"input[name={code}_severity][value='{severity}']")
        taps.tap(f"input[name={code}_trend][value=better]")


def test_a_normal_check_in_takes_at_most_ten_taps_and_fits_two_and_a_half_screens(
        phone390: Page) -> None:
    phone = phone390
    world = clinic_world(dt.date.today() - dt.timedelta(days=2))  # noqa: DTZ011
    world["clinic"].opening_hours = {str(d): [["00:00", "24:00"]] for d in range(7)}
    world["clinic"].save()
    verify(phone, world["url"], world["patient"].date_of_birth)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Day 2 after your treatment")
    # The day's aftercare is one tap away, below the form, not above it.
    aftercare = phone.locator("details.aftercare")
    expect(aftercare).not_to_have_attribute("open", "")
    # So are the less usual symptoms.
    expect(phone.locator("details.more-symptoms")).not_to_have_attribute("open", "")
    assert "Clinic policy" not in phone.content()

    taps = Taps(phone)
    normal_day_two(phone, taps)
    bottom = phone.locator("form.checkin button[type=submit]").evaluate(
        "b => b.getBoundingClientRect().bottom + window.scrollY")
    screenshot(phone, "safe-04-normal-check-in")
    check(phone, "check-in form, answered")
    assert bottom <= 2.5 * SCREEN, f"the send button ends {bottom:.0f} px down"
    taps.tap("form.checkin button[type=submit]")
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Thank you. This sounds like normal healing.")
    assert taps.count <= 10, taps.count
    check(phone, "expected result")

    checkin = CheckIn.objects.get(patient=world["patient"])
    assert checkin.level == Level.EXPECTED
    assert checkin.answers["red_flags"] == dict.fromkeys(RED_FLAGS, False)
    assert set(checkin.answers["symptoms"]) == {"redness", "swelling", "pain"}


def test_none_of_these_works_without_javascript(phone_without_js: Page) -> None:
    phone = phone_without_js
    world = clinic_world(dt.date.today() - dt.timedelta(days=2))  # noqa: DTZ011
    verify(phone, world["url"], world["patient"].date_of_birth)
    normal_day_two(phone, Taps(phone))
    phone.get_by_role("button", name="Send to the clinic").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Thank you. This sounds like normal healing.")
    checkin = CheckIn.objects.get(patient=world["patient"])
    assert checkin.answers["red_flags"] == dict.fromkeys(RED_FLAGS, False)


def test_with_the_database_failing_a_patients_link_still_shows_the_clinics_phone(
        phone390: Page) -> None:
    phone = phone390
    world = clinic_world(dt.date.today() - dt.timedelta(days=2))  # noqa: DTZ011
    verify(phone, world["url"], world["patient"].date_of_birth)
    # Every query fails from here on, as when the database file is gone.
    broken = OperationalError("unable to open database file")
    with mock.patch.object(BaseDatabaseWrapper, "_cursor", side_effect=broken):
        response = phone.goto(world["url"])
        assert response is not None
        assert response.status == 500
        expect(phone.get_by_role("heading", level=1)).to_have_text(
            "Something went wrong on our side")
        call = phone.get_by_role("link", name=f"Call the clinic: {CLINIC_PHONE}")
        expect(call).to_have_attribute("href", "tel:02079460000")
        expect(phone.get_by_role("link", name="call 999 now")).to_have_attribute(
            "href", "tel:999")
        screenshot(phone, "safe-05-error-500")
        check(phone, "500 page on a patient's link")


def test_the_staff_pages_that_changed_pass_axe(desk: Page) -> None:
    world = clinic_world(dt.date.today())  # noqa: DTZ011
    intake = healthy_intake()
    intake["conditions"]["cold_sore_history"] = True
    consultation = make_consultation(world["patient"], world["clinician"], intake)
    booked = book(make_plan(consultation, world["clinician"]), world["clinician"])
    sign_in(desk, "dr.rowe")
    for path, what in ((f"/patients/{world['patient'].pk}/", "patient page with alerts"),
                       (f"/consultations/{consultation.pk}/", "consultation with answers"),
                       (f"/sessions/{booked.pk}/", "chart with the precautions checklist"),
                       ("/no-such-page/", "404 page")):
        desk.goto(path)
        check(desk, what)
    screenshot(desk, "safe-06-chart-precautions")

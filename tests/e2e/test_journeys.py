"""The issue's two journeys, end to end in a real browser.

(a) A clinician signs in, registers a patient, screens them, records treatment consent, makes
the plan, books, charts and signs a session and gives the patient a personal link. The patient
opens it on a phone, gives their date of birth and reports pus and fever; the page tells them
to call the clinic now, with the clinic's number. The escalation is on the clinician's
worklist; they acknowledge it and close it with an outcome.

(b) A normal day-2 check-in ends "expected", and nothing reaches the worklist.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from needlecare.accounts.models import Role
from needlecare.recovery.models import CheckIn, Escalation, EscalationStatus, Level
from tests.e2e.support import (
    CLINIC_PHONE,
    answer_every_radio,
    answer_red_flags,
    escalation_rows,
    horizontal_overflow,
    report_symptom,
    screenshot,
    sign_in,
    signed_session_days_ago,
    verify_on_phone,
)
from tests.factories import make_clinic, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_clinician_to_patient_phone_to_worklist(desk: Page, phone: Page,
                                                live_server: Any) -> None:
    clinic = make_clinic(name="Harbour Skin Clinic", phone=CLINIC_PHONE)
    clinician = make_user(clinic, Role.CLINICIAN, username="dr.rowe", first_name="Jo",
                          last_name="Rowe")
    today = timezone.localdate()

    # Sign in.
    desk.goto("/login/")
    screenshot(desk, "01-login")
    sign_in(desk, "dr.rowe")

    # Register the patient.
    desk.get_by_role("link", name="Patients").click()
    desk.get_by_role("link", name="Register a patient").click()
    desk.get_by_label("First name").fill("Morgan")
    desk.get_by_label("Last name").fill("Fairweather")
    desk.get_by_label("Date of birth").fill("17/05/1990")
    desk.get_by_label("Mobile phone").fill("07700 900461")
    desk.get_by_label("Email").fill("morgan.fairweather@example.test")
    desk.get_by_role("button", name="Register patient").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Morgan Fairweather")
    patient_page = desk.url
    screenshot(desk, "02-patient")

    # Screen them: every question answered "no", skin type II, acne scars on the cheeks.
    desk.get_by_role("link", name="Start a consultation").click()
    desk.get_by_label("Planned date of the first session").fill(today.isoformat())
    desk.locator("input[name=fitzpatrick][value='2']").check()
    desk.locator("input[name=indications][value=acne_scars]").check()
    desk.locator("input[name=zones][value=cheeks]").check()
    desk.get_by_label("Device", exact=True).select_option("pen")
    answer_every_radio(desk, "no")
    desk.get_by_role("button", name="Screen and save").click()
    expect(desk.locator("#verdict-heading")).to_be_visible()
    expect(desk.get_by_text("Suitable", exact=True).first).to_be_visible()
    screenshot(desk, "03-consultation-result")

    # Treatment consent, typed by the patient on the clinic's tablet.
    desk.get_by_role("link", name="Treatment consent").click()
    desk.get_by_label("Type your full name").fill("Morgan Fairweather")
    desk.get_by_label("I have read and understood this information").check()
    desk.get_by_role("button", name="Sign", exact=True).click()
    expect(desk.get_by_text("Morgan Fairweather").first).to_be_visible()

    # The plan, from the consultation.
    desk.goto(patient_page)
    desk.get_by_role("link", name="Create a treatment plan").click()
    desk.get_by_role("button", name="Make the plan").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Treatment plan")

    # Book the first safe slot in the diary (today: the clinic is open round the clock),
    # then chart and sign.
    desk.get_by_role("link", name=re.compile("Book a session")).click()
    desk.locator("ul.slot-list button").first.click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Treatment session")
    desk.get_by_label("Date performed").fill(today.isoformat())
    desk.get_by_label("Device type").select_option("pen")
    desk.get_by_label("Device make and model").fill("Synthetic Pen 3")
    desk.get_by_label("Cartridge lot").fill("CART-E2E-1")
    desk.get_by_label("Cartridge expiry date").fill((today + dt.timedelta(days=300)).isoformat())
    desk.get_by_role("textbox", name="Topical anaesthetic", exact=True).fill("lidocaine 5%")
    desk.get_by_label("Anaesthetic on for (minutes)").fill("30")
    desk.get_by_label("Endpoint reached").fill("uniform pinpoint bleeding")
    desk.locator("input[name='zones-0-depth_mm']").fill("1.50")
    desk.locator("input[name='zones-0-passes']").fill("3")
    screenshot(desk, "04-session-sign")
    desk.get_by_role("button", name="Save and sign").click()
    expect(desk.get_by_text("Signed by")).to_be_visible()
    expect(desk.get_by_role("heading", name="Aftercare plan")).to_be_visible()

    # The patient's personal link: made by the clinician and shown to them once.
    desk.get_by_role("link", name="The patient's personal link: sent, opened, send again").click()
    desk.get_by_label("The old link should stop working").check()
    desk.get_by_role("button", name="Replace the link").click()
    url = desk.locator("#new-patient-link").inner_text()
    assert "/p/" in url

    # On the phone: date of birth, then pus and fever.
    verify_on_phone(phone, url, dt.date(1990, 5, 17))
    assert horizontal_overflow(phone) == 0
    screenshot(phone, "05-patient-phone-home")
    answer_red_flags(phone, yes={"pus_or_yellow_crusts", "fever_or_chills"})
    report_symptom(phone, "redness", 6, "worse")
    phone.get_by_label("Anything else you want to tell the clinic? (optional)").fill(
        "Yellow crusts on my cheek since this morning, and I feel hot.")
    phone.get_by_role("button", name="Send to the clinic").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Call the clinic now")
    call = phone.get_by_role("link", name=f"Call the clinic: {CLINIC_PHONE}")
    expect(call).to_have_attribute("href", "tel:02079460000")
    assert horizontal_overflow(phone) == 0
    screenshot(phone, "06-checkin-result")

    # The escalation is on the clinician's worklist.
    escalation = Escalation.objects.get(patient__family_name="Fairweather")
    assert (escalation.level, escalation.status) == (Level.URGENT, EscalationStatus.OPEN)
    desk.get_by_role("link", name="Worklist").click()
    row = escalation_rows(desk).filter(has_text="Morgan Fairweather")
    expect(row).to_contain_text("Urgent")
    screenshot(desk, "07-worklist")

    # Acknowledged, then closed with an outcome.
    row.get_by_role("link", name="Morgan Fairweather").click()
    desk.get_by_role("button", name="Acknowledge: I am dealing with this").click()
    expect(desk.get_by_text("Acknowledged. The escalation is yours to follow up.")).to_be_visible()
    desk.get_by_label("Outcome").select_option("seen_in_clinic")
    desk.get_by_label("Closing note, for the clinic only (optional)").fill(
        "Seen the same afternoon; swab taken.")
    desk.get_by_role("button", name="Close", exact=True).click()
    expect(desk.get_by_text("Escalation closed.")).to_be_visible()
    escalation.refresh_from_db()
    assert (escalation.status, escalation.outcome) == (EscalationStatus.CLOSED,
                                                       "seen_in_clinic")
    assert escalation.acknowledged_by == clinician
    desk.get_by_role("link", name="Worklist").click()
    expect(desk.get_by_text("No open escalations.")).to_be_visible()



def test_a_normal_day_two_check_in_is_expected_and_reaches_no_worklist(
        desk: Page, phone: Page) -> None:
    journey = signed_session_days_ago(2)

    verify_on_phone(phone, journey["url"], journey["patient"].date_of_birth)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Day 2 after your treatment")
    answer_red_flags(phone, yes=set())
    report_symptom(phone, "redness", 3, "better")
    report_symptom(phone, "swelling", 2, "better")
    phone.get_by_role("button", name="Send to the clinic").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Thank you. This sounds like normal healing.")

    checkin = CheckIn.objects.get(patient=journey["patient"])
    assert (checkin.level, checkin.escalation) == (Level.EXPECTED, None)
    assert not Escalation.objects.filter(patient=journey["patient"]).exists()

    sign_in(desk, journey["clinician"].username)
    desk.get_by_role("link", name="Worklist").click()
    expect(desk.get_by_text("No open escalations.")).to_be_visible()
    expect(escalation_rows(desk)).to_have_count(0)

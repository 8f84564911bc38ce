"""Outcomes in a real browser: a patient answers their 4-week questions from their personal
link; an owner opens the clinic's numbers, follows the adverse-event count to its records and
downloads the CSV; a clinician closes an escalation with a referral and downloads the letter;
and the new pages have no serious accessibility findings (axe-core)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from needlecare.access import Actor
from needlecare.outcomes import records
from needlecare.outcomes.models import InvitationStatus, OutcomeInvitation, OutcomeRecord
from tests.e2e.support import screenshot, serious_violations, sign_in, verify_on_phone
from tests.web.outcomes.support import check_in_at, issue_link, london, make_world, sign_on

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def test_a_patient_answers_the_4_week_questions_from_their_link(phone: Page,
                                                                live_server: Any) -> None:
    world = make_world()
    for days in (84, 56, 28):  # the course's last session four weeks ago today
        sign_on(world, _days_ago(days))
    invitation = OutcomeInvitation.objects.get(point="four_weeks_after")
    assert invitation.due == timezone.localdate()
    _link, token = issue_link(world)
    verify_on_phone(phone, f"{live_server.url}/p/{token}/", world.patient.date_of_birth)

    phone.get_by_role("link", name="Answer the questions").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("How is your skin now?")
    assert serious_violations(phone) == []
    screenshot(phone, "outcomes-01-patient-questions")
    phone.get_by_role("button", name="Send to the clinic").click()
    expect(phone.get_by_text("Please choose an answer.").first).to_be_visible()
    phone.get_by_label("4 – Much improved").check()
    phone.get_by_label("8", exact=True).check()
    phone.get_by_role("button", name="Send to the clinic").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    screenshot(phone, "outcomes-02-patient-thanks")

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ANSWERED
    assert {r.measure: r.score for r in OutcomeRecord.objects.all()} == {
        "gais_patient": 4, "satisfaction": 8}
    phone.goto(f"{live_server.url}/p/{token}/")
    expect(phone.get_by_role("link", name="Answer the questions")).to_have_count(0)
    expect(phone.get_by_role("heading", name="What to expect")).to_be_visible()
    assert serious_violations(phone) == []


def test_an_owner_follows_an_adverse_event_count_to_its_records_and_downloads_the_csv(
        desk: Page) -> None:
    world = make_world()
    first = sign_on(world, _days_ago(40))
    sign_on(world, _days_ago(12))
    with_event = make_world(clinic=world.clinic, given_name="Noor")
    session = sign_on(with_event, _days_ago(20), by=with_event.clinician)
    records.record_adverse_event(Actor(user=world.clinician), session.pk, type="pih",
                                 severity=2, onset=_days_ago(5), note="left cheek")
    assert first.pk

    sign_in(desk, world.owner.username)
    desk.get_by_role("link", name="Numbers").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("The clinic's numbers")
    total = desk.locator("#ae-total")
    expect(total).to_have_text("1")
    assert serious_violations(desk) == []
    screenshot(desk, "outcomes-03-numbers")

    total.click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Adverse events")
    rows = desk.locator("table.records tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Noor")
    expect(rows.first).to_contain_text("Post-inflammatory hyperpigmentation, grade 2")
    assert serious_violations(desk) == []
    screenshot(desk, "outcomes-04-numbers-records")

    desk.get_by_role("link", name="Back to the numbers").click()
    with desk.expect_download() as download_info:
        desk.get_by_role("link", name="Download as CSV").click()
    download = download_info.value
    assert re.fullmatch(r"clinic-numbers-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv",
                        download.suggested_filename)
    rows_csv = list(csv.DictReader(io.StringIO(download.path().read_text())))
    by_key = {(r["section"], r["group"], r["subgroup"]): r for r in rows_csv}
    assert by_key[("sessions", "total", "")]["count"] == "3"
    assert by_key[("adverse_events", "total", "")]["count"] == "1"


def test_a_clinician_closes_an_escalation_with_a_referral_and_downloads_the_letter(
        desk: Page) -> None:
    world = make_world()
    day = _days_ago(2)
    sign_on(world, day)
    moment = london(day.year, day.month, day.day, 19) + dt.timedelta(days=1)
    recorded = check_in_at(world, moment, {"redness": (7, "worse")},
                           flags=("pus_or_yellow_crusts", "fever_or_chills"))
    assert recorded.escalation is not None

    sign_in(desk, world.clinician.username)
    desk.get_by_role("link", name="Worklist").click()
    desk.locator("table.worklist-escalations tbody tr").first.get_by_role("link").first.click()
    expect(desk.get_by_role("heading", name="Referral")).to_be_visible()
    desk.get_by_role("link", name="Close with a referral").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Close with a referral")
    assert serious_violations(desk) == []
    desk.get_by_label("Dermatologist").check()
    desk.get_by_label("Name and address of the recipient (optional)").fill(
        "Dr Ada Lovelace, Skin Unit, General Hospital")
    desk.locator("#id_reason").select_option("suspected_infection")
    desk.get_by_label("Urgent (same or next day)").check()
    desk.get_by_label("Your summary for the letter").fill(
        "Pus and fever on day 1 after microneedling of the cheeks; swab taken, started "
        "flucloxacillin. Please assess for atypical mycobacterial infection.")
    screenshot(desk, "outcomes-05-referral-form")
    desk.get_by_role("button", name="Close and refer").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Referral for")
    expect(desk.get_by_text("Awaiting the outcome")).to_be_visible()
    assert serious_violations(desk) == []

    with desk.expect_download() as download_info:
        desk.get_by_role("link", name="Download the referral letter (PDF)").click()
    content = download_info.value.path().read_bytes()
    assert content.startswith(b"%PDF")
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(content)).pages)
    text = " ".join(text.split())
    assert "Dr Ada Lovelace" in text
    assert "atypical mycobacterial infection" in text
    assert "Pus or yellow crusts" in text
    recorded.escalation.refresh_from_db()
    assert recorded.escalation.status == "closed"
    screenshot(desk, "outcomes-06-referral")


def test_the_new_staff_pages_have_no_serious_accessibility_findings(desk: Page) -> None:
    world = make_world()
    for days in (70, 42):
        sign_on(world, _days_ago(days))
    records.record_outcome(Actor(user=world.clinician), world.plan.pk,
                           measure="goodman_baron_grade", point="baseline",
                           assessed_on=_days_ago(70), values={"grade": 3})
    sign_in(desk, world.owner.username)
    pages = {
        "plan": f"/plans/{world.plan.pk}/",
        "patient": f"/patients/{world.patient.pk}/",
        "measure": f"/plans/{world.plan.pk}/outcomes/new/?measure=goodman_baron_grade",
        "adverse-event": f"/plans/{world.plan.pk}/adverse-events/new/",
        "comparison": f"/consultations/{world.consultation.pk}/treatment-options/",
        "offerings": "/clinic/treatments-offered/",
        "referrals": "/referrals/",
    }
    for name, path in pages.items():
        desk.goto(path)
        expect(desk.locator("main h1")).to_be_visible()
        assert serious_violations(desk) == [], name
        screenshot(desk, f"outcomes-07-{name}")

"""Aftercare delivery in the browser: the staff outbox of the demo clinic, and a patient
downloading their aftercare plan as a PDF from the phone page."""

from __future__ import annotations

import io
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from needlecare.web import demo_data
from tests.e2e.support import screenshot, verify_on_phone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server: Any) -> demo_data.Loaded:
    return demo_data.load()


def sign_in_as_demo(page: Page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(demo_data.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out", exact=False)).to_be_visible()


def test_the_outbox_shows_the_demo_clinics_messages(desk: Page,
                                                    demo: demo_data.Loaded) -> None:
    sign_in_as_demo(desk, "demo.clinician")
    desk.goto("/outbox/")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Outbox")
    rows = desk.locator("main table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 5
    screenshot(desk, "08-outbox")


def test_a_patient_downloads_the_aftercare_plan_from_the_phone(
        phone: Page, demo: demo_data.Loaded) -> None:
    assert demo.try_me_url
    assert demo.try_me_dob
    verify_on_phone(phone, demo.try_me_url, demo.try_me_dob)
    # The day's aftercare (with the plan to download) is one tap below the check-in form.
    phone.locator("details.aftercare > summary").click()
    with phone.expect_download() as download_info:
        phone.get_by_role("link", name="Download your aftercare plan (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    content = download.path().read_bytes()
    assert content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
    assert "SPF 50" in text
    assert demo.clinic.phone in text

"""The patient's phone pages, checked by axe-core at 360 px: no serious or critical
accessibility violations, and nothing wider than the screen (no sideways scrolling)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import (
    answer_red_flags,
    horizontal_overflow,
    serious_violations,
    signed_session_days_ago,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def check(page: Page, what: str) -> None:
    assert page.viewport_size == {"width": 360, "height": 800}
    assert serious_violations(page) == [], what
    assert horizontal_overflow(page) == 0, f"{what} scrolls sideways at 360 px"


def test_phone_pages_have_no_serious_accessibility_violations(phone: Page) -> None:
    journey = signed_session_days_ago(1)
    patient = journey["patient"]

    phone.goto(journey["url"])
    expect(phone.get_by_role("heading", level=1)).to_have_text("Check it is you")
    check(phone, "date-of-birth page")

    # A wrong date of birth: the page with its error message.
    phone.get_by_label("Day").fill("1")
    phone.get_by_label("Month").select_option("1")
    phone.get_by_label("Year").fill("1970")
    phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_text("does not match our records")).to_be_visible()
    check(phone, "date-of-birth page with an error")

    phone.get_by_label("Day").fill(str(patient.date_of_birth.day))
    phone.get_by_label("Month").select_option(str(patient.date_of_birth.month))
    phone.get_by_label("Year").fill(str(patient.date_of_birth.year))
    phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_role("heading", name="How are you today?")).to_be_visible()
    check(phone, "today's page with the check-in form")

    # Sent without answering: the form comes back with its messages.
    phone.get_by_role("button", name="Send to the clinic").click()
    expect(phone.get_by_role("heading", name="Your answers were not sent yet")).to_be_visible()
    check(phone, "check-in form with errors")

    answer_red_flags(phone, yes={"spreading_redness"})
    phone.get_by_role("button", name="Send to the clinic").click()
    expect(phone.get_by_role("link", name="Back to today’s page")).to_be_visible()
    check(phone, "check-in result")

"""The patient's access log on the phone, at 390×844: reached from today's page, it lists who
at the clinic opened the record, and it works with JavaScript off; axe-core finds nothing
serious or critical, and nothing is wider than the screen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from tests.e2e.support import (
    TIMEOUT_MS,
    horizontal_overflow,
    screenshot,
    serious_violations,
    signed_session_days_ago,
    verify_on_phone,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE_390 = {"width": 390, "height": 844}


def _phone(browser: Browser, live_server: Any, *, javascript: bool) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport=PHONE_390, is_mobile=True,
                                  has_touch=True, device_scale_factor=2, locale="en-GB",
                                  timezone_id="Europe/London", java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone_390(browser: Browser, live_server: Any) -> Iterator[Page]:
    yield from _phone(browser, live_server, javascript=True)


@pytest.fixture
def phone_without_js(browser: Browser, live_server: Any) -> Iterator[Page]:
    yield from _phone(browser, live_server, javascript=False)


@pytest.fixture
def journey() -> dict[str, Any]:
    journey = signed_session_days_ago(2)
    staff = Client()
    staff.force_login(journey["clinician"])
    staff.get(reverse("patient-detail", args=[journey["patient"].pk]))
    return journey


def _open_log(page: Page, journey: dict[str, Any]) -> None:
    verify_on_phone(page, journey["url"], journey["patient"].date_of_birth)
    page.get_by_role("link", name="Who at the clinic has opened your record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who has opened your record")
    name = journey["clinician"].get_full_name()
    expect(page.locator(".access-log li").filter(has_text=name).first).to_contain_text(
        "looked at your details")


def test_the_access_log_on_the_phone_is_accessible(phone_390: Page,
                                                   journey: dict[str, Any]) -> None:
    _open_log(phone_390, journey)
    assert serious_violations(phone_390) == []
    assert horizontal_overflow(phone_390) == 0
    screenshot(phone_390, "23-phone-access-log")


def test_the_access_log_works_without_javascript(phone_without_js: Page,
                                                 journey: dict[str, Any]) -> None:
    _open_log(phone_without_js, journey)
    assert horizontal_overflow(phone_without_js) == 0

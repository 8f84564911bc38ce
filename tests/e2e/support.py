"""What the browser tests share: how Chromium is launched, screenshots, axe-core, and the
steps of the journeys that more than one test takes."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from needlecare.access import Actor
from needlecare.accounts.models import Role
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.recovery.links import replace_link
from tests.factories import (
    PASSWORD,
    make_clinic,
    make_consent,
    make_consultation,
    make_patient,
    make_plan,
    make_signed_session,
    make_user,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # required as root (CI)
    "--disable-gpu", "--disable-dev-shm-usage",
    # Stop Chromium reaching for Google's hosts, which do not exist here.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 800}
PHONE_390 = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000
CLINIC_PHONE = "020 7946 0000"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(", ".join(n["target"]) for n in v["nodes"])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when nothing scrolls)."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return max(0, width - page.viewport_size["width"]) if page.viewport_size else 0


def sign_in(page: Page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name=re.compile("Sign out", re.I))).to_be_visible()


def escalation_rows(page: Page) -> Locator:
    return page.locator("table.worklist-escalations tbody tr")


def answer_every_radio(page: Page, value: str) -> None:
    """Pick ``value`` in every radio group of the page's form that offers it."""
    for radio in page.locator(f"form input[type=radio][value='{value}']").all():
        radio.check()


def verify_on_phone(phone: Page, url: str, date_of_birth: dt.date) -> None:
    phone.goto(url)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Check it is you")
    phone.get_by_label("Day").fill(str(date_of_birth.day))
    phone.get_by_label("Month").select_option(str(date_of_birth.month))
    phone.get_by_label("Year").fill(str(date_of_birth.year))
    phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_role("heading", name="How are you today?")).to_be_visible()


def answer_red_flags(phone: Page, yes: set[str]) -> None:
    """Answer the warning signs: "None of these", or "Some of these" and each one."""
    if not yes:
        phone.get_by_label("None of these").check()
        return
    phone.get_by_label("Some of these").check()
    for code in RED_FLAGS:
        phone.locator(f"#id_flag_{code}_{0 if code in yes else 1}").check()


def report_symptom(phone: Page, code: str, severity: int, trend: str) -> None:
    """How strong (one tap on the 0–10 scale) and since yesterday (one tap)."""
    phone.locator(f"input[name={code}_severity][value='{severity}']").check()
    phone.locator(f"input[name={code}_trend][value={trend}]").check()


def signed_session_days_ago(days: int) -> dict[str, Any]:
    """A clinic, a clinician and a patient whose session was signed ``days`` ago."""
    clinic = make_clinic(name="Harbour Skin Clinic", phone=CLINIC_PHONE)
    clinician = make_user(clinic, Role.CLINICIAN, username=f"clinician{days}")
    patient = make_patient(clinic, clinician, given_name="Avery", family_name="Lindqvist",
                           date_of_birth=dt.date(1986, 11, 2))
    consultation = make_consultation(patient, clinician)
    make_consent(patient, clinician)
    plan = make_plan(consultation, clinician)
    session = make_signed_session(plan, clinician,
                                  performed_on=timezone.localdate() - dt.timedelta(days=days))
    issued = replace_link(Actor(user=clinician), session.patient_id)
    return {"clinician": clinician, "patient": patient, "session": session, "url": issued.url}

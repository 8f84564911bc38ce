"""The diary in a real browser: the desk books a consultation from a free slot and moves it
with the keyboard only; the patient fills the pre-visit forms and signs with a finger on a
390×844 phone; the clinician confirms them; a session booked too early is refused with the
earliest safe date and then booked with an override; a patient reschedules from their link.
Every new page is checked with axe, and every slot of the grid has an accessible name."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from needlecare.access import Actor
from needlecare.accounts.models import Role
from needlecare.diary import services
from needlecare.diary.models import Appointment, AppointmentStatus, PreVisit
from needlecare.diary.resources import clinic_types
from needlecare.recovery.links import replace_link
from tests.e2e.support import (
    CLINIC_PHONE,
    TIMEOUT_MS,
    screenshot,
    serious_violations,
    sign_in,
)
from tests.factories import (
    make_clinic,
    make_consent,
    make_consultation,
    make_patient,
    make_plan,
    make_signed_session,
    make_user,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WEEKDAYS = {str(day): [["09:00", "17:30"]] for day in range(5)}


def next_monday() -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=7 - today.weekday())


def _clinic() -> dict[str, Any]:
    clinic = make_clinic(name="Harbour Skin Clinic", phone=CLINIC_PHONE,
                         opening_hours=WEEKDAYS, time_zone="Europe/London")
    jo = make_user(clinic, Role.CLINICIAN, username="dr.rowe", first_name="Jo",
                   last_name="Rowe")
    desk = make_user(clinic, Role.FRONT_DESK, username="desk.marsh", first_name="Alex",
                     last_name="Marsh")
    patient = make_patient(clinic, jo, given_name="Avery", family_name="Lindqvist",
                           date_of_birth=dt.date(1986, 11, 2))
    return {"clinic": clinic, "jo": jo, "desk": desk, "patient": patient}


@pytest.fixture
def phone_390(browser: Browser, live_server: Any) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, locale="en-GB",
                                  timezone_id="Europe/London",
                                  viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def _no_violations(page: Page, name: str) -> None:
    screenshot(page, name)
    assert serious_violations(page) == [], name


def test_the_desk_books_and_moves_with_the_keyboard_only(desk: Page) -> None:
    world = _clinic()
    monday = next_monday()
    sign_in(desk, "desk.marsh")
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Today")
    _no_violations(desk, "diary-01-today")

    desk.goto(f"/diary/week/?practitioner={world['jo'].pk}&date={monday.isoformat()}")
    grid = desk.locator("table.diary-grid a.slot")
    names = grid.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert len(names) == 5 * 34
    pattern = re.compile(r"^Jo Rowe, \w+day \d+ \w+, \d\d:\d\d, (free|taken: .+)$")
    assert all(pattern.match(name) for name in names), names[:3]
    _no_violations(desk, "diary-02-week")

    # Book: focus the free Wednesday 10:00 slot, then only the keyboard.
    wednesday = monday + dt.timedelta(days=2)
    label = f"Jo Rowe, Wednesday {wednesday.day} {wednesday:%B}, 10:00, free"
    desk.get_by_role("link", name=label).focus()
    desk.keyboard.press("Enter")
    expect(desk.get_by_role("heading", name="Book an appointment")).to_be_visible()
    desk.keyboard.type("Lindqvist")
    desk.keyboard.press("Enter")
    desk.get_by_role("link", name=re.compile("Book for Avery Lindqvist")).focus()
    desk.keyboard.press("Enter")
    expect(desk.get_by_label("Starts")).to_have_value(f"{wednesday.isoformat()}T10:00")
    _no_violations(desk, "diary-03-book")
    desk.get_by_role("button", name="Book").focus()
    desk.keyboard.press("Enter")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Consultation: Avery Lindqvist")
    appointment = Appointment.objects.get(patient=world["patient"])
    assert appointment.starts_at.astimezone(dt.UTC).hour in (10, 9)  # London, winter/summer
    _no_violations(desk, "diary-04-appointment")

    # Move: to Thursday 14:00 from the grid, by keyboard.
    desk.get_by_role("link", name="Choose a free slot in the diary").focus()
    desk.keyboard.press("Enter")
    thursday = monday + dt.timedelta(days=3)
    desk.get_by_role("link", name=f"Jo Rowe, Thursday {thursday.day} {thursday:%B}, 14:00, "
                                  "free").focus()
    desk.keyboard.press("Enter")
    expect(desk.get_by_label("New start")).to_have_value(f"{thursday.isoformat()}T14:00")
    _no_violations(desk, "diary-05-move")
    desk.get_by_role("button", name="Move here").focus()
    desk.keyboard.press("Enter")
    expect(desk.get_by_text("Moved. The patient is told")).to_be_visible()
    appointment.refresh_from_db()
    local = appointment.starts_at.astimezone(dt.timezone(dt.timedelta(hours=0)))
    assert appointment.sequence == 1
    assert local.date() == thursday

    for url, name in (("/diary/day/", "diary-06-day"), ("/diary/day/?by=room", "diary-07-rooms"),
                      ("/diary/week/", "diary-08-clinic-week"),
                      ("/diary/waitlist/", "diary-09-waitlist"),
                      ("/diary/requests/", "diary-10-requests")):
        desk.goto(url)
        _no_violations(desk, name)


def test_pre_visit_forms_on_the_phone_then_the_clinician_confirms(
        desk: Page, phone_390: Page) -> None:
    world = _clinic()
    consultation = next(t for t in clinic_types(world["clinic"].pk)
                        if t.kind == "consultation")
    start = dt.datetime.combine(next_monday() + dt.timedelta(days=1), dt.time(11),
                                tzinfo=dt.UTC)
    appointment = services.book(Actor(user=world["desk"]), services.Proposal(
        patient_id=world["patient"].pk, type_id=consultation.pk,
        practitioner_id=world["jo"].pk, starts_at=start))
    url = replace_link(Actor(user=world["jo"]), world["patient"].pk).url
    phone = phone_390
    phone.goto(url)
    phone.get_by_label("Day").fill("2")
    phone.get_by_label("Month").select_option("11")
    phone.get_by_label("Year").fill("1986")
    phone.get_by_role("button", name="Continue").click()
    phone.get_by_role("link", name=re.compile("Fill in your forms")).first.click()

    expect(phone.get_by_text("Step 1 of 6")).to_be_visible()
    phone.locator("input[name=fitzpatrick][value='2']").check()
    phone.locator("input[name=indications][value=acne_scars]").check()
    phone.locator("input[name=zones][value=cheeks]").check()
    _no_violations(phone, "previsit-01-skin")
    phone.get_by_role("button", name="Save and continue").click()
    expect(phone.get_by_text("Step 2 of 6")).to_be_visible()
    phone.locator("input[name=cold_sore_history][value=yes]").check()
    phone.get_by_role("button", name="Save and continue").click()
    for step in (3, 4, 5):
        expect(phone.get_by_text(f"Step {step} of 6")).to_be_visible()
        if step == 3:
            _no_violations(phone, "previsit-02-medicines")
        phone.get_by_role("button", name="Save and continue").click()
    expect(phone.get_by_text("Step 6 of 6")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390

    # Sign with a finger on the canvas.
    canvas = phone.locator("#signature-pad")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None
    # A finger's pointer events (Playwright's touchscreen only taps).
    def touch(kind: str, n: int) -> None:
        canvas.dispatch_event(kind, {"pointerId": 7, "pointerType": "touch", "isPrimary": True,
                                     "clientX": box["x"] + 20 + n * 20,
                                     "clientY": box["y"] + 60 + (n % 3) * 15,
                                     "bubbles": True, "cancelable": True})

    touch("pointerdown", 0)
    for n in range(1, 12):
        touch("pointermove", n)
    touch("pointerup", 12)
    phone.get_by_label("I have read and understood this information").check()
    _no_violations(phone, "previsit-03-consent")
    phone.get_by_role("button", name="Sign and send").click()
    expect(phone.get_by_text("your answers and your signature are with the clinic")
           ).to_be_visible()
    previsit = PreVisit.objects.get(appointment=appointment)
    assert previsit.completed_at is not None
    signature = previsit.signatures.get()
    assert signature.kind == "drawn"
    assert signature.svg.count(" L ") >= 5
    page_text = phone.content()
    assert "suitable" not in page_text.lower()  # never a verdict for the patient

    # The clinician reviews and confirms at the visit.
    sign_in(desk, "dr.rowe")
    desk.goto(f"/diary/previsits/{previsit.pk}/")
    expect(desk.get_by_text(re.compile("From the patient, ")).first).to_be_visible()
    _no_violations(desk, "previsit-04-review")
    desk.get_by_role("button", name="Confirm the answers and screen").click()
    expect(desk.locator("#verdict-heading")).to_be_visible()
    previsit.refresh_from_db()
    assert previsit.consultation is not None
    desk.goto(f"/diary/previsits/{previsit.pk}/")
    desk.get_by_role("button", name=re.compile("Counter-sign at the visit")).click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Consent")


def test_a_session_too_early_then_booked_with_an_override(desk: Page) -> None:
    world = _clinic()
    consultation = make_consultation(world["patient"], world["jo"])
    make_consent(world["patient"], world["jo"])
    plan = make_plan(consultation, world["jo"])
    done = timezone.localdate() - dt.timedelta(days=7)
    make_signed_session(plan, world["jo"], performed_on=done)
    # With a working link (main's worklist fails on a due check-in without one: 'link-new').
    replace_link(Actor(user=world["jo"]), world["patient"].pk)
    safe = done + dt.timedelta(days=28)
    sign_in(desk, "dr.rowe")
    desk.goto(f"/plans/{plan.pk}/sessions/book/")
    _no_violations(desk, "session-01-book")
    too_early = next_monday() + dt.timedelta(days=1)  # at most 8 days away: before `safe`
    desk.get_by_label("Starts").fill(f"{too_early.isoformat()}T10:00")
    desk.get_by_role("button", name="Book", exact=True).click()
    expect(desk.get_by_text("Not booked:")).to_be_visible()
    expect(desk.get_by_text(f"Earliest safe date: {safe:%A} {safe.day} {safe:%B %Y}")
           ).to_be_visible()
    desk.get_by_label("Reason to book past a rule").fill(
        "Forehead only, at a lighter depth; skin reviewed today.")
    desk.get_by_role("button", name="Book", exact=True).click()
    expect(desk.get_by_text("Session booked.")).to_be_visible()
    booked = Appointment.objects.get(plan=plan)
    assert booked.override_rules == ["min_interval"]


def test_a_patient_reschedules_from_their_link(phone: Page) -> None:
    world = _clinic()
    consultation = next(t for t in clinic_types(world["clinic"].pk)
                        if t.kind == "review")
    start = dt.datetime.combine(next_monday() + dt.timedelta(days=2), dt.time(11),
                                tzinfo=dt.UTC)
    appointment = services.book(Actor(user=world["desk"]), services.Proposal(
        patient_id=world["patient"].pk, type_id=consultation.pk,
        practitioner_id=world["jo"].pk, starts_at=start))
    url = replace_link(Actor(user=world["jo"]), world["patient"].pk).url
    phone.goto(url)
    phone.get_by_label("Day").fill("2")
    phone.get_by_label("Month").select_option("11")
    phone.get_by_label("Year").fill("1986")
    phone.get_by_role("button", name="Continue").click()
    phone.get_by_role("link", name="Confirm, change or cancel").click()
    _no_violations(phone, "patient-01-appointments")
    phone.get_by_role("link", name="Choose another time").click()
    _no_violations(phone, "patient-02-rebook")
    phone.locator("ul.slot-list button").nth(2).click()
    expect(phone.get_by_text("Your appointment has moved.")).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.sequence == 1
    assert appointment.status == AppointmentStatus.BOOKED


def test_the_public_request_page_is_accessible(phone: Page) -> None:
    world = _clinic()
    phone.goto(f"/book/{world['clinic'].slug}/")
    expect(phone.get_by_role("heading", name="Ask for a consultation")).to_be_visible()
    _no_violations(phone, "public-01-request")

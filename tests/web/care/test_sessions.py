"""Sessions: booking, charting a draft, signing (and every reason it is refused), then
addenda, cancellation and what the front desk sees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from needlecare.access import Actor
from needlecare.audit.models import AuditEvent
from needlecare.care.aftercare import signed_session_facts
from needlecare.care.models import (
    AftercareRecord,
    PlanStatus,
    SessionAddendum,
    SessionStatus,
    SessionZone,
    TreatmentSession,
)
from needlecare.care.services import ChartData, ZoneRow, save_chart, sign_session
from needlecare.errors import ServiceError
from tests.factories import (
    make_consent,
    make_consultation,
    make_patient,
    make_plan,
    make_signed_session,
)
from tests.web.care.support import book, chart_post, client_for, fresh_clinic, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(db: None) -> dict[str, Any]:
    """A booked session on a fresh plan (cheeks 1.5–2.0 mm, 28 days), with valid consent."""
    world = fresh_clinic()
    world["plan"] = make_plan(world["consultation"], world["clinician"])
    world["session"] = book(world["plan"], world["front_desk"])
    return world


def _sign(world: dict[str, Any], data: dict[str, Any] | None = None) -> Any:
    url = reverse("session-sign", args=[world["session"].pk])
    return client_for(world["clinician"]).post(url, data if data is not None else chart_post())


def _assert_refused(world: dict[str, Any], response: Any, *problems: str) -> None:
    """A refused signature shows every problem and changes nothing."""
    page = response.content.decode()
    assert response.status_code == 200
    assert "This session cannot be signed yet" in page
    for problem in problems:
        assert problem in page, problem
    session = TreatmentSession.objects.get(pk=world["session"].pk)
    assert session.status == SessionStatus.BOOKED
    assert session.signed_at is None
    assert session.cartridge_lot == ""
    assert not SessionZone.objects.filter(session=session).exists()
    assert not AftercareRecord.objects.filter(session=session).exists()
    assert not AuditEvent.objects.filter(action="session.sign").exists()


def test_signing_from_the_chart_form_saves_and_signs_in_one_go(ready: dict[str, Any]) -> None:
    response = _sign(ready)
    assert response.status_code == 302
    session = TreatmentSession.objects.get(pk=ready["session"].pk)
    assert session.status == SessionStatus.SIGNED
    assert session.consent == ready["consent"]
    assert session.products == [{"code": "hyaluronic_acid", "name": "HA glide",
                                 "lot": "HA-77"}]
    assert list(session.zones.values_list("zone", "passes")) == [("cheeks", 3)]
    assert session.aftercare.plan["session"]["deepest_depth_mm"] == 1.5
    assert AuditEvent.objects.filter(action="session.sign").count() == 1


def test_missing_fields_are_all_listed(ready: dict[str, Any]) -> None:
    response = _sign(ready, chart_post(
        zones=[{"zone": "cheeks", "depth_mm": "", "passes": "", "depth_reason": ""}],
        performed_on="", device="", cartridge_lot="", cartridge_expiry="",
        endpoint_reached=""))
    _assert_refused(ready, response, "the date performed is missing",
                    "the device type is missing", "the cartridge lot is missing",
                    "the cartridge expiry date is missing",
                    "no zone has been recorded with a depth and passes",
                    "the endpoint reached is missing")


def test_an_expired_cartridge_is_refused(ready: dict[str, Any]) -> None:
    expired = today() - dt.timedelta(days=1)
    response = _sign(ready, chart_post(cartridge_expiry=expired.isoformat()))
    _assert_refused(ready, response, f"the cartridge expired on {expired.isoformat()}")


def test_a_cartridge_expiring_on_the_day_may_be_used(ready: dict[str, Any]) -> None:
    assert _sign(ready, chart_post(cartridge_expiry=today().isoformat())).status_code == 302


def test_a_depth_beyond_the_plan_needs_a_reason(ready: dict[str, Any]) -> None:
    deep = [{"zone": "cheeks", "depth_mm": "2.50", "passes": "3", "depth_reason": ""}]
    response = _sign(ready, chart_post(zones=deep))
    _assert_refused(ready, response, "deeper than the plan&#x27;s maximum of 2.0 mm")

    deep[0]["depth_reason"] = "Deep boxcar scars on the left cheek."
    assert _sign(ready, chart_post(zones=deep)).status_code == 302
    assert TreatmentSession.objects.get(pk=ready["session"].pk).aftercare.plan[
        "session"]["deepest_depth_mm"] == 2.5


def test_a_zone_outside_the_plan_is_refused(ready: dict[str, Any]) -> None:
    response = _sign(ready, chart_post(zones=[
        {"zone": "cheeks", "depth_mm": "1.5", "passes": "3", "depth_reason": ""},
        {"zone": "forehead", "depth_mm": "0.5", "passes": "2", "depth_reason": ""}]))
    _assert_refused(ready, response, "Forehead and temples is not in the treatment plan")


def test_the_interval_since_the_last_session_needs_a_reason_when_short(
        ready: dict[str, Any]) -> None:
    last = today() - dt.timedelta(days=10)
    make_signed_session(ready["plan"], ready["clinician"], performed_on=last)
    AuditEvent.objects.all().delete()
    response = _sign(ready)
    _assert_refused(ready, response, f"only 10 days since the last signed session on "
                                     f"{last.isoformat()}", "interval is 28 days")

    assert _sign(ready, chart_post(interval_reason="Patient travels abroad next month; "
                                                   "agreed shorter gap.")).status_code == 302


def test_no_valid_consent_is_refused_and_a_withdrawn_one_does_not_count(
        ready: dict[str, Any]) -> None:
    ready["consent"].withdrawn_at = ready["consent"].signed_at
    ready["consent"].save()
    response = _sign(ready)
    _assert_refused(ready, response, "no valid (signed, not withdrawn) treatment consent")


def test_a_photo_consent_is_not_a_treatment_consent(db: None) -> None:
    world = fresh_clinic()
    patient = make_patient(world["clinic"], world["clinician"])
    make_consent(patient, world["clinician"], kind="photos")
    world["plan"] = make_plan(make_consultation(patient, world["clinician"]),
                              world["clinician"])
    world["session"] = book(world["plan"], world["clinician"])
    _assert_refused(world, _sign(world), "treatment consent")


def test_signing_the_saved_draft(ready: dict[str, Any]) -> None:
    client = client_for(ready["clinician"])
    url = reverse("session-detail", args=[ready["session"].pk])
    assert client.post(url, chart_post(endpoint_reached="")).status_code == 302
    response = client.post(reverse("session-sign", args=[ready["session"].pk]))
    assert "the endpoint reached is missing" in response.content.decode()
    session = TreatmentSession.objects.get(pk=ready["session"].pk)
    assert session.status == SessionStatus.BOOKED
    assert session.cartridge_lot == "CART-2026-A"  # the draft is kept as it was

    page = client.get(url).content.decode()
    assert 'value="CART-2026-A"' in page
    assert 'value="1.50"' in page


@pytest.mark.parametrize(("changes", "message"), [
    ({"zones-0-depth_mm": "abc"}, "Enter a number."),
    ({"zones-0-depth_mm": "9"}, "less than or equal to 3.0"),
    ({"zones-0-depth_mm": "0"}, "greater than or equal to 0.05"),
    ({"zones-0-passes": ""}, "Give both the depth and the passes"),
    ({"performed_on": "2026-13-45"}, "Enter a valid date."),
    ({"cartridge_expiry": "tomorrow"}, "Enter a valid date."),
    ({"performed_on": (today() + dt.timedelta(days=1)).isoformat()},
     "cannot be in the future"),
    ({"anaesthetic_minutes": "-5"}, "greater than or equal to 0"),
    ({"device": "laser"}, "Select a valid choice."),
    ({"product_vitamin_c_lot": "VC-1"}, "Tick the product"),
    ({"zones-TOTAL_FORMS": "x"}, "ManagementForm data is missing or has been tampered"),
])
@pytest.mark.parametrize("route", ["session-detail", "session-sign"])
def test_bad_chart_input_re_renders_with_a_message(
        ready: dict[str, Any], route: str, changes: dict[str, str], message: str) -> None:
    response = client_for(ready["clinician"]).post(
        reverse(route, args=[ready["session"].pk]), chart_post(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    session = TreatmentSession.objects.get(pk=ready["session"].pk)
    assert (session.status, session.cartridge_lot) == (SessionStatus.BOOKED, "")


def test_a_signed_session_is_read_only_but_takes_addenda(ready: dict[str, Any]) -> None:
    _sign(ready)
    client = client_for(ready["clinician"])
    pk = ready["session"].pk
    response = client.post(reverse("session-detail", args=[pk]),
                           chart_post(cartridge_lot="CHANGED"))
    assert response.status_code == 200
    assert "signed and can no longer be changed" in response.content.decode()
    assert TreatmentSession.objects.get(pk=pk).cartridge_lot == "CART-2026-A"

    response = client.post(reverse("session-sign", args=[pk]))
    assert "signed and can no longer be changed" in response.content.decode()
    assert AftercareRecord.objects.filter(session_id=pk).count() == 1

    response = client.post(reverse("session-addendum", args=[pk]), {"text": ""})
    assert response.status_code == 200
    assert "This field is required." in (
        response.content.decode())
    response = client.post(reverse("session-addendum", args=[pk]),
                           {"text": "Patient phoned: redness settled by day 2."})
    assert response.status_code == 302
    addendum = SessionAddendum.objects.get(session_id=pk)
    assert addendum.by == ready["clinician"]
    assert addendum.at is not None
    page = client.get(reverse("session-detail", args=[pk])).content.decode()
    assert "redness settled by day 2" in page


def test_addenda_are_for_signed_sessions_only(ready: dict[str, Any]) -> None:
    response = client_for(ready["clinician"]).post(
        reverse("session-addendum", args=[ready["session"].pk]), {"text": "Too early."})
    assert response.status_code == 200
    assert "Addenda are for signed sessions" in response.content.decode()
    assert not SessionAddendum.objects.exists()


def test_cancelling_needs_a_reason_and_a_booked_session(ready: dict[str, Any]) -> None:
    client = client_for(ready["front_desk"])
    url = reverse("session-cancel", args=[ready["session"].pk])
    page = client.post(url, {"reason": ""}, follow=True).content.decode()
    assert "Give the reason for cancelling." in page
    assert client.post(url, {"reason": "Patient unwell."}).status_code == 302
    session = TreatmentSession.objects.get(pk=ready["session"].pk)
    assert (session.status, session.cancelled_reason) == (SessionStatus.CANCELLED,
                                                          "Patient unwell.")
    response = client.post(url, {"reason": "Twice."}, follow=True)
    assert "Only a booked session can be cancelled." in response.content.decode()
    response = _sign(ready)
    assert "This session was cancelled." in response.content.decode()


def test_booking_needs_an_active_plan_and_a_valid_date(ready: dict[str, Any]) -> None:
    """The plan's booking page books through the diary: its rules answer on the form."""
    client = client_for(ready["front_desk"])
    url = reverse("session-book", args=[ready["plan"].pk])
    before = TreatmentSession.objects.count()
    clinician = ready["clinician"].pk
    for value, message in (("not a date", "Enter a valid date/time."),
                           ((today() - dt.timedelta(days=1)).isoformat() + "T10:00",
                            "That time has passed")):
        response = client.post(url, {"practitioner": clinician, "starts_at": value})
        assert response.status_code == 200
        assert message in response.content.decode()
    ready["plan"].status = PlanStatus.STOPPED
    ready["plan"].save()
    tomorrow = (today() + dt.timedelta(days=1)).isoformat() + "T10:00"
    response = client.post(url, {"practitioner": clinician, "starts_at": tomorrow})
    assert "No active treatment plan" in response.content.decode()
    assert TreatmentSession.objects.count() == before


def test_the_front_desk_books_and_sees_the_booking_but_never_the_chart(
        ready: dict[str, Any]) -> None:
    _sign(ready)
    client = client_for(ready["front_desk"])
    pk = ready["session"].pk
    assert client.get(reverse("session-book", args=[ready["plan"].pk])).status_code == 200
    response = client.post(reverse("session-book", args=[ready["plan"].pk]),
                           {"practitioner": ready["clinician"].pk,
                            "starts_at": (today() + dt.timedelta(days=30)).isoformat()
                            + "T10:00"})
    assert response.status_code == 302

    page = client.get(reverse("session-detail", args=[pk])).content.decode()
    assert "Booked for" in page
    for clinical in ("CART-2026-A", "uniform pinpoint bleeding", "HA-77", "1.50",
                     "expected erythema", "Aftercare plan"):
        assert clinical not in page, clinical
    assert client.post(reverse("session-detail", args=[pk]), chart_post()).status_code == 403
    assert client.post(reverse("session-sign", args=[pk])).status_code == 403
    assert client.post(reverse("session-addendum", args=[pk]),
                       {"text": "x"}).status_code == 403


def test_signed_session_facts_are_what_recovery_builds_on(ready: dict[str, Any]) -> None:
    with pytest.raises(ServiceError):
        signed_session_facts(ready["session"])
    _sign(ready, chart_post(zones=[
        {"zone": "cheeks", "depth_mm": "1.75", "passes": "3", "depth_reason": ""}],
        product_vitamin_c="on", product_vitamin_c_name="C serum"))
    session = TreatmentSession.objects.get(pk=ready["session"].pk)
    facts = signed_session_facts(session)
    assert facts.deepest_depth_mm == 1.75
    assert facts.fitzpatrick == ready["plan"].fitzpatrick
    assert (facts.device, facts.zones) == ("pen", ["cheeks"])
    assert facts.products == ["hyaluronic_acid", "vitamin_c"]


def test_the_session_page_needs_few_queries(
        ready: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    _sign(ready)
    client = client_for(ready["clinician"])
    with django_assert_max_num_queries(15):
        assert client.get(reverse("session-detail", args=[ready["session"].pk])
                          ).status_code == 200


@pytest.mark.parametrize("chart", [
    ChartData(zones=(ZoneRow("cheeks", Decimal("1.234"), 3),)),
    ChartData(zones=(ZoneRow("cheeks", Decimal("3.5"), 3),)),
    ChartData(zones=(ZoneRow("elbow", Decimal("1.5"), 3),)),
    ChartData(zones=(ZoneRow("cheeks", Decimal("1.5"), 0),)),
    ChartData(zones=(ZoneRow("cheeks", Decimal("1.5"), 3), ZoneRow("cheeks", Decimal("1"), 1))),
    ChartData(anaesthetic_minutes=-1),
    ChartData(cartridge_lot="L" * 81),
    ChartData(device="laser"),
    ChartData(products=({"code": "snake_oil"},)),
])
def test_the_chart_service_refuses_what_no_form_would_send(
        ready: dict[str, Any], chart: ChartData) -> None:
    actor = Actor(user=ready["clinician"])
    with pytest.raises(ServiceError):
        save_chart(actor, ready["session"].pk, chart)
    with pytest.raises(ServiceError):
        sign_session(actor, ready["session"].pk, chart)
    session = TreatmentSession.objects.get(pk=ready["session"].pk)
    assert session.status == SessionStatus.BOOKED
    assert not session.zones.exists()
    assert not AuditEvent.objects.filter(action__in=["session.chart", "session.sign"]).exists()

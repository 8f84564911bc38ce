"""Lot search: every signed session of the clinic that used a cartridge or product lot."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from needlecare.audit.models import AuditEvent
from needlecare.care.models import TreatmentSession
from tests.factories import (
    journey_to_signed_session,
    make_consultation,
    make_patient,
    make_plan,
    make_signed_session,
)
from tests.web.care.support import book, client_for, today

pytestmark = pytest.mark.django_db


def _search(user: Any, lot: str) -> str:
    response = client_for(user).get(reverse("lot-search"), {"lot": lot})
    assert response.status_code == 200
    return response.content.decode()


def _session_with(journey: dict[str, Any], *, cartridge: str = "OTHER",
                  product_lot: str = "OTHER", name: str = "Kim") -> TreatmentSession:
    patient = make_patient(journey["clinic"], journey["clinician"], given_name=name)
    plan = make_plan(make_consultation(patient, journey["clinician"]), journey["clinician"])
    session = make_signed_session(plan, journey["owner"],
                                  performed_on=today() - dt.timedelta(days=3))
    TreatmentSession.objects.filter(pk=session.pk).update(
        cartridge_lot=cartridge,
        products=[{"code": "hyaluronic_acid", "name": "HA glide", "lot": product_lot}])
    return session


def test_finds_cartridge_and_product_lots_exactly_whatever_the_case(
        journey: dict[str, Any]) -> None:
    by_cartridge = _session_with(journey, cartridge="AB-123", name="Cartridgeperson")
    by_product = _session_with(journey, product_lot="ab-123", name="Productperson")
    _session_with(journey, cartridge="AB-1234", product_lot="XAB-123", name="Nearmiss")

    page = _search(journey["clinician"], "  Ab-123 ")
    assert "2 sessions" in page
    assert by_cartridge.patient.full_name in page
    assert by_product.patient.full_name in page
    assert "Nearmiss" not in page
    assert journey["owner"].get_full_name() in page  # the practitioner
    assert f"{today() - dt.timedelta(days=3):%-d %B %Y}" in page

    event = AuditEvent.objects.get(action="session.lot_search")
    assert event.detail["lot"] == "Ab-123"
    assert event.detail["matches"] == 2
    assert sorted(event.detail["sessions"]) == sorted([by_cartridge.pk, by_product.pk])
    assert event.clinic == journey["clinic"]
    assert event.actor == journey["clinician"]


def test_only_signed_sessions_of_the_users_own_clinic(journey: dict[str, Any]) -> None:
    other = journey_to_signed_session()
    TreatmentSession.objects.filter(pk=other["session"].pk).update(cartridge_lot="SHARED-1")
    booked = book(journey["plan"], journey["clinician"])
    TreatmentSession.objects.filter(pk=booked.pk).update(cartridge_lot="SHARED-1")
    page = _search(journey["clinician"], "SHARED-1")
    assert "0 sessions" in page
    assert "No signed session used this lot." in page


def test_an_empty_search_asks_for_a_lot_and_records_nothing(journey: dict[str, Any]) -> None:
    assert "This field is required." in _search(journey["clinician"], "")
    page = client_for(journey["clinician"]).get(reverse("lot-search")).content.decode()
    assert "Lot number" in page
    assert not AuditEvent.objects.filter(action="session.lot_search").exists()


def test_the_factory_session_is_found_by_its_lots(journey: dict[str, Any]) -> None:
    assert journey["patient"].full_name in _search(journey["clinician"], "lot-test-1")
    assert journey["patient"].full_name in _search(journey["owner"], "HA-1")

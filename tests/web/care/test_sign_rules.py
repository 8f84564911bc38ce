"""Whether a session can be signed, and what a chart may hold, decided without a database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from needlecare.care.rules import (
    ChartData,
    SigningFacts,
    ZoneRow,
    check_chart_shape,
    sign_problems,
)
from needlecare.errors import ServiceError

TODAY = dt.date(2026, 3, 2)
READY = SigningFacts(
    performed_on=TODAY, device="pen", cartridge_lot="LOT-1",
    cartridge_expiry=TODAY + dt.timedelta(days=100), endpoint_reached="pinpoint bleeding",
    interval_reason="", zones=[ZoneRow("cheeks", Decimal("1.50"), 3)],
    depth_ranges={"cheeks": [1.5, 2.0]}, interval_days=28,
    last_signed_on=TODAY - dt.timedelta(days=28), has_valid_consent=True, today=TODAY)


def test_a_complete_chart_can_be_signed() -> None:
    assert sign_problems(READY) == []


def test_every_problem_is_listed_at_once() -> None:
    facts = dataclasses.replace(READY, device="", cartridge_lot=" ", has_valid_consent=False,
                                zones=[])
    assert sign_problems(facts) == [
        "the device type is missing", "the cartridge lot is missing",
        "no zone has been recorded with a depth and passes",
        "the patient has no valid (signed, not withdrawn) treatment consent"]


def test_an_expired_cartridge_is_refused() -> None:
    facts = dataclasses.replace(READY, cartridge_expiry=TODAY - dt.timedelta(days=1))
    assert sign_problems(facts) == [
        "the cartridge expired on 2026-03-01, before the session on 2026-03-02"]


@pytest.mark.parametrize(("reason", "problems"), [("", 1), ("Thick scar tissue", 0)])
def test_a_depth_beyond_the_plan_needs_a_reason(reason: str, problems: int) -> None:
    facts = dataclasses.replace(READY, zones=[ZoneRow("cheeks", Decimal("2.25"), 3, reason)])
    assert len(sign_problems(facts)) == problems


@pytest.mark.parametrize(("days", "reason", "refused"), [
    (27, "", True), (27, "Patient travels abroad next month", False), (28, "", False)])
def test_a_short_interval_needs_a_reason(days: int, reason: str, refused: bool) -> None:
    facts = dataclasses.replace(READY, last_signed_on=TODAY - dt.timedelta(days=days),
                                interval_reason=reason)
    assert any("days since the last signed session" in p
               for p in sign_problems(facts)) is refused


def test_a_zone_outside_the_plan_is_named() -> None:
    facts = dataclasses.replace(READY, zones=[ZoneRow("forehead", Decimal("1.0"), 2)])
    assert sign_problems(facts) == ["Forehead and temples is not in the treatment plan"]


def _shape(chart: ChartData, practitioners: set[int] | None = None) -> None:
    check_chart_shape(chart, today=TODAY, practitioner_ids=practitioners or set(),
                      text_limits={"cartridge_lot": 10})


@pytest.mark.parametrize(("chart", "code"), [
    (ChartData(device="laser"), "invalid_device"),
    (ChartData(performed_on=TODAY + dt.timedelta(days=1)), "performed_in_future"),
    (ChartData(practitioner_id=99), "invalid_practitioner"),
    (ChartData(cartridge_lot="X" * 11), "too_long"),
    (ChartData(anaesthetic_minutes=300), "invalid_minutes"),
    (ChartData(zones=(ZoneRow("cheeks", Decimal("1"), 2), ZoneRow("cheeks", Decimal("1"), 2))),
     "duplicate_zone"),
    (ChartData(zones=(ZoneRow("cheeks", Decimal("3.5"), 2),)), "invalid_zone"),
    (ChartData(products=({"code": "snake_oil"},)), "invalid_product"),
])
def test_impossible_chart_values_are_refused(chart: ChartData, code: str) -> None:
    with pytest.raises(ServiceError) as refused:
        _shape(chart)
    assert refused.value.code == code


def test_a_draft_with_possible_values_passes() -> None:
    _shape(ChartData(device="pen", practitioner_id=7, cartridge_lot="LOT-1",
                     zones=(ZoneRow("cheeks", Decimal("1.25"), 3),)), practitioners={7})

"""The aftercare record a signature stores: a few hundred bytes instead of the whole plan, and
every page that shows the plan shows exactly what it showed when the whole plan was stored."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from django.urls import reverse

from needlecare.care.aftercare import aftercare_document, record_aftercare, signed_session_facts
from needlecare.care.models import AftercareRecord, SessionZone, TreatmentSession
from needlecare.clinical import aftercare_record
from needlecare.clinical.aftercare import aftercare
from needlecare.clinical.aftercare_record import RECORD_SCHEMA
from needlecare.clinical.protocol.loader import protocol_by_version
from needlecare.documents import services as documents
from tests.web.care.support import client_for
from tests.web.messaging.support import make_world, sign
from tests.web.recovery.conftest import Linked, signed_days_ago, verified_client

pytestmark = pytest.mark.django_db

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture(autouse=True)
def _fresh_plans() -> None:
    aftercare_record._rebuilt.cache_clear()


def _whole(record: AftercareRecord) -> dict[str, Any]:
    """The whole document, as records stored it before they were compact."""
    facts = signed_session_facts(record.session)
    return aftercare(facts, protocol_by_version(record.protocol_version)).model_dump(
        mode="json", by_alias=True)


def _store_whole(record: AftercareRecord, document: dict[str, Any]) -> None:
    AftercareRecord.objects.filter(pk=record.pk).update(plan=document)


def _page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return _CSRF.sub("", response.content.decode())


def _linked_with_record(days: int) -> tuple[Linked, AftercareRecord]:
    linked = signed_days_ago(days)
    return linked, record_aftercare(linked.session)


# --- what is stored ------------------------------------------------------------------------------

def test_signing_stores_a_compact_record_well_under_10_kb(db: None) -> None:
    session = sign(make_world())
    record = AftercareRecord.objects.get(session=session)
    assert record.plan["schema"] == RECORD_SCHEMA
    assert record.plan["protocol"] == {"name": "microneedling", "version": "2026.2"}
    assert record.plan["session"]["zones"] == ["cheeks"]
    assert len(json.dumps(record.plan)) <= 10_000
    assert aftercare_document(session)[0] == _whole(record)


def test_a_busy_session_stores_a_record_well_under_10_kb(journey: dict[str, Any]) -> None:
    session: TreatmentSession = journey["session"]
    for zone, depth in (("forehead", "0.75"), ("jawline", "1.25"), ("neck", "1.00"),
                        ("perioral", "0.75"), ("periorbital", "0.50")):
        SessionZone.objects.create(session=session, zone=zone, depth_mm=depth, passes=2)
    session.products = [{"code": code, "name": f"Synthetic {code}", "lot": f"LOT-{n}"}
                        for n, code in enumerate(["hyaluronic_acid", "prp", "vitamin_c",
                                                  "tranexamic_acid", "growth_factors"])]
    session.save()
    record = record_aftercare(session)
    stored = len(json.dumps(AftercareRecord.objects.get(pk=record.pk).plan))
    whole = len(json.dumps(_whole(record)))
    assert stored <= 10_000
    assert whole > 50 * stored  # what it replaces


# --- every page shows what it showed before ------------------------------------------------------

@pytest.mark.parametrize("days", [0, 3, 20])
def test_the_patients_page_is_the_same_from_a_compact_record(days: int) -> None:
    linked, record = _linked_with_record(days)
    client = verified_client(linked)
    compact_page = _page(client, linked.path())
    _store_whole(record, _whole(record))
    assert _page(client, linked.path()) == compact_page
    first = aftercare_document(linked.session)[0]
    block = (first["days"][days] if days < len(first["days"])
             else next(w for w in first["weeks"] if w["from_day"] <= days <= w["to_day"]))
    assert block["instructions"][0]["text"].replace("'", "&#x27;") in compact_page


def test_the_session_page_and_pdf_are_the_same_from_a_compact_record() -> None:
    linked, record = _linked_with_record(0)
    client = client_for(linked.clinician)
    path = reverse("session-detail", args=[linked.session.pk])
    compact_page, compact_pdf = _page(client, path), documents.aftercare_pdf(linked.session)
    assert "Day 14 (" in compact_page
    _store_whole(record, _whole(record))
    assert _page(client, path) == compact_page
    assert documents.aftercare_pdf(linked.session) == compact_pdf


# --- records stored before, and plans that changed since ---------------------------------------

def test_a_whole_plan_stored_before_is_shown_as_stored() -> None:
    linked, record = _linked_with_record(0)
    document = _whole(record)
    document["days"][0]["instructions"][0]["text"] = "Wording stored before this change."
    _store_whole(record, document)
    assert aftercare_document(linked.session) == (document, "microneedling-2026.2")
    assert "Wording stored before this change." in _page(verified_client(linked), linked.path())
    assert "Wording stored before this change." in _page(
        client_for(linked.clinician), reverse("session-detail", args=[linked.session.pk]))


def test_a_plan_that_changed_since_signing_is_logged_and_still_shown(
        caplog: pytest.LogCaptureFixture) -> None:
    linked, record = _linked_with_record(0)
    plan = dict(record.plan, sha256="0" * 64)  # what the code made at signing differs
    AftercareRecord.objects.filter(pk=record.pk).update(plan=plan)
    with caplog.at_level(logging.ERROR, logger="needlecare.care.aftercare"):
        page = _page(verified_client(linked), linked.path())
    [logged] = [r for r in caplog.records if r.name == "needlecare.care.aftercare"]
    assert logged.levelno == logging.ERROR
    assert f"Aftercare record {record.pk} (session {linked.session.pk})" in logged.getMessage()
    assert "microneedling-2026.2" in logged.getMessage()
    first = _whole(record)["days"][0]["instructions"][0]["text"]
    assert first.replace("'", "&#x27;") in page


def test_a_record_of_a_protocol_that_no_longer_loads_still_shows_a_plan(
        caplog: pytest.LogCaptureFixture) -> None:
    linked, record = _linked_with_record(0)
    plan = json.loads(json.dumps(record.plan))
    plan["protocol"]["version"] = "1999.1"
    AftercareRecord.objects.filter(pk=record.pk).update(
        plan=plan, protocol_version="microneedling-1999.1")
    with caplog.at_level(logging.ERROR, logger="needlecare.care.aftercare"):
        document, version = aftercare_document(linked.session)
    assert version == "microneedling-2026.2"
    assert document == _whole(record)
    messages = [r.getMessage() for r in caplog.records if r.name == "needlecare.care.aftercare"]
    assert any("its protocol microneedling-1999.1 does not load" in m for m in messages)


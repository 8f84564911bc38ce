"""The owner's audit page, its CSV export and /api/v1/audit: filters by patient, staff member,
action and date; pages by id; clinical free text hashed for a reader without clinical access;
reading and exporting are audited; only owners, only their clinic."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor, audit
from needlecare.accounts import trail
from needlecare.audit.models import AuditEvent
from needlecare.care.services import ChartData, ZoneRow, save_chart
from tests.factories import journey_to_signed_session, make_patient, make_plan
from tests.web.care.support import book, fresh_clinic
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(journey: dict[str, Any]) -> Client:
    return client_for(journey["owner"])


def test_the_owner_sees_the_trail_newest_first(journey: dict[str, Any], owner: Client) -> None:
    client_for(journey["clinician"]).get(reverse("patient-detail",
                                                 args=[journey["patient"].pk]))
    page = owner.get(reverse("audit-list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "patient.view" in text
    assert journey["patient"].full_name in text
    assert AuditEvent.objects.filter(action="audit.view", actor=journey["owner"]).exists()


def test_filters_find_a_patient_a_member_an_action_and_a_day(journey: dict[str, Any],
                                                             owner: Client) -> None:
    other = make_patient(journey["clinic"], journey["clinician"], given_name="Robin")
    clinician, desk = Actor(user=journey["clinician"]), Actor(user=journey["front_desk"])
    audit(clinician, "patient.view", patient=journey["patient"])
    audit(desk, "patient.view", patient=other)
    old = audit(desk, "patient.update", patient=other)
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - dt.timedelta(days=10))

    def found(**query: Any) -> list[tuple[str, int | None]]:
        rows = owner.get(reverse("audit-list"), query).context["rows"]
        return [(r["event"].action, r["event"].patient_id) for r in rows
                if r["event"].action.startswith("patient.")]

    assert found(patient=other.pk) == [("patient.update", other.pk), ("patient.view", other.pk)]
    assert found(staff=journey["clinician"].pk) == [("patient.view", journey["patient"].pk)]
    assert found(action="patient.update") == [("patient.update", other.pk)]
    assert ("patient.update", other.pk) not in found(since=timezone.localdate().isoformat())
    ten_days_ago = (timezone.localdate() - dt.timedelta(days=10)).isoformat()
    assert found(since=ten_days_ago, until=ten_days_ago) == [("patient.update", other.pk)]


def test_pages_go_back_by_id(journey: dict[str, Any], owner: Client) -> None:
    for n in range(trail.PAGE_SIZE + 5):
        audit(Actor(user=journey["clinician"]), "patient.view", patient=journey["patient"],
              detail={"n": n})
    first = owner.get(reverse("audit-list"), {"action": "patient.view"}).context
    assert len(first["rows"]) == trail.PAGE_SIZE
    older = owner.get(reverse("audit-list"), {"action": "patient.view",
                                              "before": first["older"]}).context
    assert len(older["rows"]) == 5
    assert older["older"] is None
    seen = [r["event"].pk for r in first["rows"] + older["rows"]]
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == len(seen)


def test_the_export_is_csv_audited_and_quotes_formulas(journey: dict[str, Any],
                                                       owner: Client) -> None:
    member = journey["clinician"]
    member.first_name = "=HYPERLINK(evil)"
    member.save()
    audit(Actor(user=member), "patient.view", patient=journey["patient"])
    response = owner.get(reverse("audit-export"), {"staff": member.pk})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "at", "action"]
    assert [r[2] for r in rows[1:]] == ["patient.view"]
    assert rows[1][4].startswith("'=HYPERLINK")
    assert AuditEvent.objects.filter(action="audit.export", actor=journey["owner"]).exists()


def test_clinical_free_text_is_hashed_for_a_reader_without_clinical_access(
        journey: dict[str, Any]) -> None:
    event = audit(Actor(user=journey["clinician"]), "session.chart",
                  patient=journey["patient"], detail={"changes": {
                      "notes": {"old": "", "new": "Mild erythema.", "clinical_text": True},
                      "device": {"old": "pen", "new": "roller"}}})
    owner_view = trail.detail_for(event, Actor(user=journey["owner"]))
    assert owner_view["changes"]["notes"]["new"] == "Mild erythema."
    desk_view = trail.detail_for(event, Actor(user=journey["front_desk"]))
    assert desk_view["changes"]["notes"]["new"].startswith("sha256:")
    assert "erythema" not in str(desk_view)
    assert desk_view["changes"]["device"] == {"old": "pen", "new": "roller"}


def test_a_chart_change_records_old_and_new_values() -> None:
    world = fresh_clinic()
    session = book(make_plan(world["consultation"], world["clinician"]), world["front_desk"])
    actor = Actor(user=world["clinician"])
    save_chart(actor, session.pk, ChartData(device="pen", notes="Mild erythema."))
    save_chart(actor, session.pk, ChartData(device="pen", notes="Settled by the end.",
                                            zones=(ZoneRow("cheeks", Decimal("1.50"), 3),)))
    last = AuditEvent.objects.filter(action="session.chart").latest("id")
    changes = last.detail["changes"]
    assert changes["notes"] == {"old": "Mild erythema.", "new": "Settled by the end.",
                                "clinical_text": True}
    assert changes["zones"]["new"] == [{"zone": "cheeks", "depth_mm": "1.50", "passes": 3,
                                        "depth_reason": ""}]
    assert "device" not in changes  # unchanged


def test_only_owners_read_it(journey: dict[str, Any]) -> None:
    for role in ("clinician", "front_desk"):
        client = client_for(journey[role])
        assert client.get(reverse("audit-list")).status_code == 403
        assert client.get(reverse("audit-export")).status_code == 403
        assert client.get("/api/v1/audit").status_code == 403


def test_the_api_pages_the_clinics_trail_only(journey: dict[str, Any], owner: Client) -> None:
    stranger = journey_to_signed_session()
    audit(Actor(user=stranger["clinician"]), "patient.view", patient=stranger["patient"])
    audit(Actor(user=journey["clinician"]), "patient.view", patient=journey["patient"])
    body = owner.get("/api/v1/audit", {"action": "patient.view", "limit": 1}).json()
    assert [r["patient_id"] for r in body["results"]] == [journey["patient"].pk]
    assert body["results"][0]["actor_role"] == "clinician"
    nothing = owner.get("/api/v1/audit", {"patient": stranger["patient"].pk}).json()
    assert nothing == {"results": [], "older": None}


def test_the_action_suggestions_are_the_clinics_own_distinct_actions(
        journey: dict[str, Any]) -> None:
    clinician = Actor(user=journey["clinician"])
    for action in ("patient.view", "patient.view", "zeta.last", "alpha.first"):
        audit(clinician, action, patient=journey["patient"])
    elsewhere = fresh_clinic()["clinic"]
    AuditEvent.objects.create(clinic=elsewhere, actor_kind="system", action="other.clinic")
    found = trail.actions(Actor(user=journey["owner"]))
    assert found == sorted(set(AuditEvent.objects.filter(clinic=journey["clinic"])
                               .values_list("action", flat=True)))
    assert {"alpha.first", "patient.view", "zeta.last"} <= set(found)
    assert "other.clinic" not in found


def test_each_action_suggestion_is_one_seek_of_the_clinic_action_index(
        journey: dict[str, Any]) -> None:
    from django.db import connection

    from needlecare.audit.models import AuditEvent

    # A trail of some size, so that the planner's statistics favour the index it is for (on
    # a handful of rows PostgreSQL rightly reads the clinic's few rows instead).
    AuditEvent.objects.bulk_create(
        AuditEvent(clinic=journey["clinic"], actor_kind="system", action=f"bench.{n % 40:02d}")
        for n in range(4000))
    sql = ("SELECT MIN(action) FROM audit_auditevent WHERE clinic_id = %s AND action > %s")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
            cursor.execute("EXPLAIN QUERY PLAN " + sql, [journey["clinic"].pk, "patient."])
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        else:
            cursor.execute("ANALYZE audit_auditevent")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, [journey["clinic"].pk, "patient."])
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "audit_clinic_action" in plan, plan
    assert "SCAN audit_auditevent" not in plan, plan

"""The audit trail's hash chains: the worker seals new rows in id order, clinic by clinic,
and ``needlecare audit verify`` finds a row edited, deleted, moved or cut from the end after
sealing (exit 2, naming the first broken row), and says how old the oldest unsealed row is."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import logging
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import pytest
from django.db.models import F

from needlecare.access import Actor, audit
from needlecare.audit import chain
from needlecare.audit.models import AuditChain, AuditEvent
from needlecare.cli import main
from needlecare.messaging.worker import run_worker
from tests.factories import journey_to_signed_session

pytestmark = pytest.mark.django_db


def _verify() -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["audit", "verify"])
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def trail() -> dict[str, Any]:
    """Two clinics, each with a handful of audit rows, all sealed."""
    first, second = journey_to_signed_session(), journey_to_signed_session()
    for n in range(6):
        audit(Actor(user=first["clinician"]), "patient.view", patient=first["patient"],
              obj=first["patient"], detail={"n": n})
        audit(Actor(user=second["clinician"]), "patient.view", patient=second["patient"],
              obj=second["patient"], detail={"n": n})
    assert chain.seal_all() == 12
    return {"first": first, "second": second}


def _rows(clinic: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(clinic=clinic["clinic"]).order_by("seq"))


def test_each_clinic_has_its_own_chain_numbered_in_id_order(trail: dict[str, Any]) -> None:
    for clinic in (trail["first"], trail["second"]):
        rows = _rows(clinic)
        assert [r.seq for r in rows] == list(range(1, 7))
        assert [r.pk for r in rows] == sorted(r.pk for r in rows)
        assert rows[0].prev_hash == chain.GENESIS
        assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(rows))
        head = AuditChain.objects.get(clinic=clinic["clinic"])
        assert (head.last_seq, head.last_hash) == (6, rows[-1].hash)


def test_an_intact_trail_verifies(trail: dict[str, Any]) -> None:
    code, text = _verify()
    assert code == 0, text
    assert "intact: 12 sealed row(s) in 2 chain(s)" in text
    assert "no row is waiting to be sealed" in text


def test_a_row_edited_after_sealing_is_found(trail: dict[str, Any]) -> None:
    target = _rows(trail["first"])[2]
    AuditEvent.objects.filter(pk=target.pk).update(detail={"n": 99})
    code, text = _verify()
    assert code == 2
    assert f"row #3 (id {target.pk})" in text
    assert "no longer matches its hash" in text


def test_a_row_given_another_patient_or_time_is_found(trail: dict[str, Any]) -> None:
    target = _rows(trail["second"])[4]
    AuditEvent.objects.filter(pk=target.pk).update(at=F("at") - dt.timedelta(hours=3))
    code, text = _verify()
    assert code == 2
    assert f"row #5 (id {target.pk})" in text


def test_a_deleted_row_is_found(trail: dict[str, Any]) -> None:
    rows = _rows(trail["first"])
    AuditEvent.objects.filter(pk=rows[1].pk).delete()
    code, text = _verify()
    assert code == 2
    assert f"row #3 (id {rows[2].pk})" in text
    assert "#2 before it are missing" in text


def test_swapped_rows_are_found(trail: dict[str, Any]) -> None:
    rows = _rows(trail["first"])
    a, b = rows[1], rows[2]
    # Swap their places in the chain, each keeping its own hash: the order is a lie.
    AuditEvent.objects.filter(pk=a.pk).update(seq=None)
    AuditEvent.objects.filter(pk=b.pk).update(seq=2, prev_hash=a.prev_hash, hash=a.hash)
    AuditEvent.objects.filter(pk=a.pk).update(seq=3, prev_hash=b.prev_hash, hash=b.hash)
    code, text = _verify()
    assert code == 2
    assert "row #2" in text


def test_rows_moved_to_other_ids_are_found(trail: dict[str, Any]) -> None:
    rows = _rows(trail["first"])
    # Reordering by exchanging the content of two rows (their actions and details).
    AuditEvent.objects.filter(pk=rows[3].pk).update(detail=rows[4].detail)
    AuditEvent.objects.filter(pk=rows[4].pk).update(detail=rows[3].detail)
    code, text = _verify()
    assert code == 2
    assert f"row #4 (id {rows[3].pk})" in text


def test_rows_cut_from_the_end_are_found(trail: dict[str, Any]) -> None:
    rows = _rows(trail["second"])
    AuditEvent.objects.filter(pk__in=[rows[-1].pk, rows[-2].pk]).delete()
    code, text = _verify()
    assert code == 2
    assert "ends at #4 but its head records #6" in text


def test_new_rows_wait_unsealed_and_verify_says_for_how_long(trail: dict[str, Any]) -> None:
    clinic = trail["first"]
    audit(Actor(user=clinic["clinician"]), "patient.view", patient=clinic["patient"])
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 1
    # (Last: the command closes the database connection when it ends, as Django's do.)
    code, text = _verify()
    assert code == 0
    assert "1 row(s) waiting to be sealed, the oldest for" in text


def test_sealing_logs_each_chains_new_head(trail: dict[str, Any],
                                           caplog: pytest.LogCaptureFixture) -> None:
    clinic = trail["second"]
    audit(Actor(user=clinic["owner"]), "patient.view", patient=clinic["patient"])
    with caplog.at_level(logging.INFO, logger="needlecare.audit"):
        sealed = chain.seal_pending()
    head = AuditChain.objects.get(clinic=clinic["clinic"])
    assert [(s.rows, s.head_seq) for s in sealed] == [(1, 7)]
    assert f"audit chain clinic:{clinic['clinic'].pk} sealed 1 row(s); head #7 " \
           f"{head.last_hash}" in caplog.text


def test_the_worker_seals_what_requests_wrote() -> None:
    journey = journey_to_signed_session()
    audit(Actor(user=journey["clinician"]), "patient.view", patient=journey["patient"])
    assert AuditEvent.objects.filter(seq__isnull=True).exists()
    run_worker(once=True, interval=0)
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert _verify()[0] == 0


def test_rows_of_no_clinic_have_their_own_chain() -> None:
    AuditEvent.objects.create(actor_kind="anonymous", action="auth.login_failed")
    chain.seal_all()
    assert AuditChain.objects.get(key="no-clinic").last_seq == 1
    assert _verify()[0] == 0

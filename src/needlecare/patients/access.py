"""The one way to reach patient data: the record lookups of the access layer.

Every service turns its caller into an ``Actor`` (``needlecare.access``) and reaches a patient,
or a record that belongs to one, through ``access_patient`` or ``access_record`` before
touching it. The check is the clinic (a user of one clinic never sees another's: a record of
another clinic is "not found", so its existence is not revealed), the patient of a personal
link, and the role's permissions. Each access writes its audit row inside the caller's
transaction, so the row commits or rolls back with the change.

These live here, above the patient model they read; the actor and audit primitives sit below
every app in ``needlecare.access``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils.translation import gettext as _

from needlecare.access import Actor, Permission, audit, record_id, refuse, require
from needlecare.audit.models import AuditEvent
from needlecare.errors import NotFound
from needlecare.patients.models import Patient


def _check_patient(actor: Actor, patient: Patient, permission: Permission,
                   wanted: models.Model | None = None) -> None:
    """Refuse an actor of another clinic, or another patient's link, as "not found" (the
    record's existence is not revealed), and a role without ``permission`` as "forbidden";
    either refusal is noted in the audit trail."""
    wanted = wanted if wanted is not None else patient
    if (actor.clinic_id is None or patient.clinic_id != actor.clinic_id
            or (actor.link is not None and actor.link.patient_id != patient.pk)):
        message = _("No such patient.") if wanted is patient else _("No such record.")
        raise refuse(actor, NotFound(message), wanted=wanted,
                     wanted_id=wanted.pk, patient=patient if actor.link is None else None)
    require(actor, permission, wanted=wanted, wanted_id=wanted.pk, patient=patient)


def check_access(actor: Actor, patient: Patient, permission: Permission,
                 wanted: models.Model | None = None) -> None:
    """The access check alone, for a service that reads before its write transaction (the
    check-in, so that SQLite's write lock covers only the writes): it must still write the
    audit row of the access in the transaction that uses what it read."""
    _check_patient(actor, patient, permission, wanted)


def access_patient(actor: Actor, patient_id: int | str, *,
                   permission: Permission = Permission.VIEW_DEMOGRAPHICS,
                   action: str = "patient.view", detail: dict[str, Any] | None = None,
                   ) -> Patient:
    """Return the patient if the actor may act on them, auditing the access.

    Services that change data call this inside their own ``transaction.atomic()`` with the
    action they perform, so the audit row commits or rolls back with the change."""
    pk = record_id(patient_id)
    patient = Patient.objects.filter(pk=pk).first() if pk is not None else None
    if patient is None:
        raise refuse(actor, NotFound(_("No such patient.")), wanted=Patient,
                     wanted_id=patient_id)
    _check_patient(actor, patient, permission)
    # Inside the caller's transaction no savepoint is needed: a failed audit row fails the
    # whole change.
    with transaction.atomic(savepoint=False):
        audit(actor, action, patient=patient, obj=patient, detail=detail)
    return patient


M = TypeVar("M", bound=models.Model)


def access_record(actor: Actor, model: type[M], pk: int | str, *,
                  permission: Permission | Callable[[M], Permission] = Permission.VIEW_CLINICAL,
                  action: str | None = None, related: tuple[str, ...] = (),
                  detail: dict[str, Any] | Callable[[M], dict[str, Any]] | None = None,
                  lock: bool = False) -> M:
    """Return a record that belongs to a patient (it has ``patient`` and ``clinic``), checked
    the same way as the patient, and audit the access. ``lock`` takes the record's row lock
    (PostgreSQL; SQLite's IMMEDIATE transaction already holds the database's).

    ``permission`` and ``detail`` may be functions of the record, for a permission that
    depends on what the record is, or an audit row that records the state found: the record
    is read here, once, and nothing about it is known before its clinic has been checked."""
    records = model._default_manager.select_related("patient", *related)
    if lock:
        records = records.select_for_update(of=("self",))
    key = record_id(pk)
    record = records.filter(pk=key).first() if key is not None else None
    if record is None:
        raise refuse(actor, NotFound(_("No such record.")), wanted=model, wanted_id=pk)
    patient: Patient = record.patient
    _check_patient(actor, patient, permission(record) if callable(permission) else permission,
                   wanted=record)
    # No savepoint, as in access_patient.
    with transaction.atomic(savepoint=False):
        row = audit(actor, action or f"{model._meta.model_name}.view", patient=patient,
                    obj=record, detail=detail(record) if callable(detail) else detail)
    record._access_row = row  # for record_changes()
    return record


def record_changes(record: models.Model, changed: dict[str, dict[str, Any]]) -> None:
    """Add what a change did (``access.changes``: each field's old and new value) to the
    audit row that ``access_record`` wrote for ``record`` in this transaction; the row is
    not sealed before the transaction commits, so it is still the row's first version."""
    row: AuditEvent = getattr(record, "_access_row")  # noqa: B009  # set by access_record
    row.detail = {**row.detail, "changes": changed}
    row.save(update_fields=["detail"])


def patients_for(actor: Actor) -> models.QuerySet[Patient]:
    """The patients an actor may list (their clinic's). Callers audit the search itself."""
    require(actor, Permission.VIEW_DEMOGRAPHICS, wanted=Patient)
    return Patient.objects.filter(clinic_id=actor.clinic_id)

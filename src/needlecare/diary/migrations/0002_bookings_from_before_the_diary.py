"""Every session booked before the diary becomes its appointment (a session-type appointment
of its clinic, with the default types made where missing): booked stays booked, signed is
done, cancelled stays cancelled with its reason. The practitioner is the one who signed, or a
clinician who booked it; a booking that would overlap another of the same practitioner keeps
no practitioner (the exclusion constraints added next would refuse it)."""

import datetime as dt

from django.db import migrations

TYPES = (
    ("consultation", "Consultation", 30, 10, True, False, False),
    ("session", "Microneedling session", 60, 15, False, True, True),
    ("review", "Review", 20, 5, False, False, False),
)
PRACTITIONER_ROLES = ("clinician", "owner")
STATUS = {"booked": "booked", "signed": "done", "cancelled": "cancelled"}
HOLDING = ("booked", "confirmed", "arrived", "in_progress", "done")


def forwards(apps, schema_editor):
    AppointmentType = apps.get_model("diary", "AppointmentType")
    Appointment = apps.get_model("diary", "Appointment")
    TreatmentSession = apps.get_model("care", "TreatmentSession")
    Clinic = apps.get_model("accounts", "Clinic")
    session_types = {}
    for clinic in Clinic.objects.all():
        for kind, name, minutes, after, pre_visit, aftercare, device in TYPES:
            found, _ = AppointmentType.objects.get_or_create(
                clinic=clinic, kind=kind, defaults={
                    "name": name, "duration_minutes": minutes, "buffer_before_minutes": 0,
                    "buffer_after_minutes": after, "roles": list(PRACTITIONER_ROLES),
                    "sends_link": True, "aftercare": aftercare, "pre_visit": pre_visit,
                    "needs_room": True, "needs_device": device, "active": True})
            if kind == "session":
                session_types[clinic.pk] = found
    busy = {}
    for session in (TreatmentSession.objects.select_related("practitioner", "booked_by")
                    .order_by("scheduled_for", "id")):
        kind = session_types[session.clinic_id]
        start = session.scheduled_for
        end = start + dt.timedelta(minutes=kind.duration_minutes)
        block_end = end + dt.timedelta(minutes=kind.buffer_after_minutes)
        status = STATUS.get(session.status, "booked")
        practitioner = session.practitioner
        if practitioner is None and session.booked_by.role in PRACTITIONER_ROLES:
            practitioner = session.booked_by
        if practitioner is not None and status in HOLDING:
            taken = busy.setdefault(practitioner.pk, [])
            if any(s < block_end and start < e for s, e in taken):
                practitioner = None
            else:
                taken.append((start, block_end))
        Appointment.objects.create(
            clinic_id=session.clinic_id, patient_id=session.patient_id, type=kind,
            practitioner=practitioner, starts_at=start, ends_at=end, block_start=start,
            block_end=block_end, status=status, plan_id=session.plan_id,
            treatment_session=session, booked_by=session.booked_by, created_at=start,
            cancelled_reason=session.cancelled_reason,
            finished_at=session.signed_at if status == "done" else None)


def backwards(apps, schema_editor):
    apps.get_model("diary", "Appointment").objects.filter(
        treatment_session__isnull=False).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("diary", "0001_initial"),
        ("care", "0002_times_from_the_clock"),
        ("accounts", "0004_clinic_settings"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

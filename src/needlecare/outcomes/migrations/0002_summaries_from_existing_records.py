"""Fill the two summary tables from the sessions and check-ins recorded before they existed.

Later rows are written by the outcomes app's event handlers. The invitation days and the answer
window are those of the protocol in force when this migration was written (microneedling-2026.2:
days 1, 3, 7, 14, 28 and 56; a check-in answers the latest invitation day on or before it, and
the last one for seven days), copied here so that the migration does not change with the code.
"""

from decimal import Decimal

from django.db import migrations

INVITATION_DAYS = (1, 3, 7, 14, 28, 56)
LAST_WINDOW_DAYS = 7


def _answered_day(day):
    if day is None or day < INVITATION_DAYS[0] or day >= INVITATION_DAYS[-1] + LAST_WINDOW_DAYS:
        return None
    return max(d for d in INVITATION_DAYS if d <= day)


def fill(apps, schema_editor):
    Session = apps.get_model("care", "TreatmentSession")
    Zone = apps.get_model("care", "SessionZone")
    CheckIn = apps.get_model("recovery", "CheckIn")
    Fact = apps.get_model("outcomes", "SignedSessionFact")
    Answered = apps.get_model("outcomes", "AnsweredCheckinDay")
    signed = {}
    for session in (Session.objects.filter(status="signed", performed_on__isnull=False)
                    .select_related("plan").iterator()):
        ranges = session.plan.depth_ranges or {}
        overrides = sum(1 for zone in Zone.objects.filter(session_id=session.pk)
                        if zone.zone in ranges
                        and zone.depth_mm > Decimal(str(ranges[zone.zone][1])))
        Fact.objects.get_or_create(session_id=session.pk, defaults={
            "clinic_id": session.clinic_id, "practitioner_id": session.practitioner_id,
            "performed_on": session.performed_on, "depth_overrides": overrides})
        signed[session.pk] = session
    for checkin in CheckIn.objects.order_by("submitted_at", "id").iterator():
        session = signed.get(checkin.session_id)
        day = _answered_day((checkin.result or {}).get("day"))
        if session is None or day is None:
            continue
        Answered.objects.get_or_create(session_id=session.pk, day=day, defaults={
            "clinic_id": session.clinic_id, "practitioner_id": session.practitioner_id,
            "performed_on": session.performed_on, "checkin_id": checkin.pk})


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0001_initial"),
        ("care", "0002_times_from_the_clock"),
        ("recovery", "0005_one_link_per_patient"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]

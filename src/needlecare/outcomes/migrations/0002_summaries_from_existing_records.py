"""Fill the sessions summary from the sessions and check-ins recorded before it existed.

Later rows are written by the outcomes app's event handlers. The invitation days, their bits
and the answer window are those in force when this migration was written
(microneedling-2026.2: days 1, 3, 7, 14, 28 and 56; a check-in answers the latest invitation
day on or before it, and the last one for seven days), copied here so that the migration does
not change with the code.
"""

from decimal import Decimal

from django.db import migrations

DAY_BITS = {1: 0, 3: 1, 7: 2, 14: 3, 28: 4, 56: 5}
LAST_WINDOW_DAYS = 7


def _answered_day(day):
    days = sorted(DAY_BITS)
    if day is None or day < days[0] or day >= days[-1] + LAST_WINDOW_DAYS:
        return None
    return max(d for d in days if d <= day)


def fill(apps, schema_editor):
    Session = apps.get_model("care", "TreatmentSession")
    Zone = apps.get_model("care", "SessionZone")
    CheckIn = apps.get_model("recovery", "CheckIn")
    Fact = apps.get_model("outcomes", "SignedSessionFact")
    answered = {}
    for session_id, result in CheckIn.objects.values_list("session_id", "result").iterator():
        day = _answered_day((result or {}).get("day"))
        if day is not None:
            answered[session_id] = answered.get(session_id, 0) | (1 << DAY_BITS[day])
    for session in (Session.objects.filter(status="signed", performed_on__isnull=False)
                    .select_related("plan").iterator()):
        ranges = session.plan.depth_ranges or {}
        overrides = sum(1 for zone in Zone.objects.filter(session_id=session.pk)
                        if zone.zone in ranges
                        and zone.depth_mm > Decimal(str(ranges[zone.zone][1])))
        Fact.objects.get_or_create(session_id=session.pk, defaults={
            "clinic_id": session.clinic_id, "practitioner_id": session.practitioner_id,
            "performed_on": session.performed_on, "depth_overrides": overrides,
            "answered_days": answered.get(session.pk, 0)})


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0001_initial"),
        ("care", "0004_consultation_overridden_index"),
        ("recovery", "0007_escalation_opened_index"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]

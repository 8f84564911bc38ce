"""PostgreSQL refuses two active appointments of one practitioner, room or device over
overlapping blocks, even when two requests race for the same slot: exclusion constraints on
the block as a time range (GiST, with ``btree_gist`` for the equality on the id). The
extension needs a role allowed to create it (``CREATE EXTENSION`` once, by a superuser, when
the application's role is not). SQLite has no such constraint: the booking service checks
inside its IMMEDIATE transaction, which lets one writer in at a time."""

from django.db import migrations

HOLDING = "('booked', 'confirmed', 'arrived', 'in_progress', 'done')"
RESOURCES = ("practitioner", "room", "device")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for resource in RESOURCES:
        schema_editor.execute(
            f"ALTER TABLE diary_appointment ADD CONSTRAINT appointment_{resource}_free "
            f"EXCLUDE USING gist ({resource}_id WITH =, "
            f"tstzrange(block_start, block_end, '[)') WITH &&) "
            f"WHERE ({resource}_id IS NOT NULL AND status IN {HOLDING})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for resource in RESOURCES:
        schema_editor.execute(
            f"ALTER TABLE diary_appointment DROP CONSTRAINT IF EXISTS "
            f"appointment_{resource}_free")


class Migration(migrations.Migration):
    dependencies = [("diary", "0002_bookings_from_before_the_diary")]

    operations = [migrations.RunPython(forwards, backwards)]

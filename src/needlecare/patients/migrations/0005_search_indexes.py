"""Patient search through indexes on both databases (issue 15).

The search compares the name's matching key (``name_key``) and the phone number's digits
(``phone_digits``, added here) anywhere in the value. A plain B-tree index cannot serve
"contains", so:

- SQLite: an FTS5 table with the trigram tokenizer over both columns, an external-content
  index of ``patients_patient`` kept current by triggers (every write, whichever code path
  makes it: the services, erasure, bulk loads, restores);
- PostgreSQL: the ``pg_trgm`` extension and a GIN trigram index on each column, which serve
  ``LIKE '%…%'``.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from needlecare import names

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE patients_patient_search USING fts5(
        name_key, phone_digits, content='patients_patient', content_rowid='id',
        tokenize='trigram')""",
    """CREATE TRIGGER patients_patient_search_insert AFTER INSERT ON patients_patient BEGIN
        INSERT INTO patients_patient_search(rowid, name_key, phone_digits)
        VALUES (new.id, new.name_key, new.phone_digits);
    END""",
    """CREATE TRIGGER patients_patient_search_delete AFTER DELETE ON patients_patient BEGIN
        INSERT INTO patients_patient_search(patients_patient_search, rowid, name_key,
                                            phone_digits)
        VALUES ('delete', old.id, old.name_key, old.phone_digits);
    END""",
    """CREATE TRIGGER patients_patient_search_update
    AFTER UPDATE OF name_key, phone_digits ON patients_patient BEGIN
        INSERT INTO patients_patient_search(patients_patient_search, rowid, name_key,
                                            phone_digits)
        VALUES ('delete', old.id, old.name_key, old.phone_digits);
        INSERT INTO patients_patient_search(rowid, name_key, phone_digits)
        VALUES (new.id, new.name_key, new.phone_digits);
    END""",
    "INSERT INTO patients_patient_search(patients_patient_search) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS patients_patient_search_update",
    "DROP TRIGGER IF EXISTS patients_patient_search_delete",
    "DROP TRIGGER IF EXISTS patients_patient_search_insert",
    "DROP TABLE IF EXISTS patients_patient_search",
]
POSTGRES_FORWARD = [
    # fastupdate off: patients are written rarely and searched often, and entries waiting in
    # a GIN index's pending list are scanned by every search (and priced so by the planner).
    "CREATE INDEX patient_name_key_trgm ON patients_patient "
    "USING gin (name_key gin_trgm_ops) WITH (fastupdate = off)",
    "CREATE INDEX patient_phone_digits_trgm ON patients_patient "
    "USING gin (phone_digits gin_trgm_ops) WITH (fastupdate = off)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS patient_phone_digits_trgm",
    "DROP INDEX IF EXISTS patient_name_key_trgm",
]


def fill_digits(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    for patient in Patient.objects.only("pk", "phone").exclude(phone="").iterator():
        Patient.objects.filter(pk=patient.pk).update(phone_digits=names.phone_digits(
            patient.phone))


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("patients", "0004_patient_name_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient", name="phone_digits",
            field=models.CharField(blank=True, default="", editable=False, max_length=40)),
        migrations.RunPython(fill_digits, migrations.RunPython.noop),
        # Does nothing on other databases.
        TrigramExtension(),
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD})),
    ]

"""The name's matching key replaces the lower-cased search copy: accents, case and look-alike
letters of other scripts folded (needlecare.names.name_key)."""

from django.db import migrations, models

from needlecare import names


def fill_keys(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    for patient in Patient.objects.only("pk", "given_name", "family_name").iterator():
        Patient.objects.filter(pk=patient.pk).update(
            name_key=names.name_key(patient.given_name, patient.family_name))


class Migration(migrations.Migration):

    dependencies = [
        ("patients", "0003_times_from_the_clock"),
    ]

    operations = [
        migrations.RenameField("patient", "search_name", "name_key"),
        migrations.AlterField(
            model_name="patient", name="name_key",
            field=models.CharField(db_index=True, editable=False, max_length=500)),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
    ]

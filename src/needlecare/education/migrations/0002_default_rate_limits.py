from django.db import migrations

# The public newsletter sign-up's limits (education.ratelimit.DEFAULTS at the time of writing);
# operators change them in the admin.
LIMITS = {
    "subscribe-per-ip": (10, 3600, "newsletter sign-ups from one IP address per hour"),
    "subscribe-per-address": (3, 86400, "newsletter sign-ups for one email address per day"),
    "subscribe-per-clinic": (300, 3600, "newsletter sign-ups for one clinic per hour"),
}


def create(apps, schema_editor):
    RateLimit = apps.get_model("education", "RateLimit")
    for name, (maximum, seconds, description) in LIMITS.items():
        RateLimit.objects.get_or_create(name=name, defaults={
            "max_requests": maximum, "window_seconds": seconds, "description": description})


def remove(apps, schema_editor):
    apps.get_model("education", "RateLimit").objects.filter(name__in=LIMITS).delete()


class Migration(migrations.Migration):
    dependencies = [("education", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]

"""``needlecare photos-purge``: delete the photos whose record-keeping period has ended (each
clinic's setting), with their files; every deletion is audited. Run it daily (cron, a systemd
timer); ``--dry-run`` only counts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from needlecare import clock
from needlecare.photos.models import Photo
from needlecare.photos.services import purge_expired, retention_end


class Command(BaseCommand):
    help = "Delete photos whose record-keeping period has ended (audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="count the photos that would be deleted, delete none")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            today = clock.localdate()
            due = sum(1 for photo in Photo.objects.select_related("clinic").iterator()
                      if retention_end(photo) <= today)
            self.stdout.write(f"{due} photos are past their record-keeping period.")
            return
        self.stdout.write(f"{purge_expired()} photos deleted.")

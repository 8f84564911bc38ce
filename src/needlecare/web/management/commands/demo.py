"""``needlecare demo``: load the synthetic demo clinic and print how to sign in.

Idempotent: a second run finds the clinic and changes nothing but the try-me patient's personal
link (a fresh one is issued so that it can be printed; the previous one stops working).
``--reset`` deletes the demo clinic and loads it again. Refuses to run in production.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from needlecare.accounts.models import Role
from needlecare.errors import ServiceError
from needlecare.web import demo_data


class Command(BaseCommand):
    help = "Load the synthetic demo clinic (idempotent; --reset rebuilds it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true",
                            help="delete the demo clinic and everything in it, then reload it")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("refusing to load demo data with NEEDLECARE_ENV=production: its "
                               "accounts share a published password")
        try:
            loaded = demo_data.load(reset=options["reset"])
        except ServiceError as exc:
            raise CommandError(f"the demo could not be loaded: {exc.message}") from None
        out = self.stdout
        verb = "Loaded" if loaded.created else "Already loaded (use --reset to rebuild)"
        out.write(f"{verb}: {loaded.clinic.name}, {loaded.patients} synthetic patients.\n")
        out.write("\nSign in at http://127.0.0.1:8000/ as one of:\n")
        roles = dict(Role.choices)
        for member in demo_data.STAFF:
            out.write(f"  {member.username:<17} {roles[member.role]}\n")
        out.write(f"Password for all of them: {demo_data.DEMO_PASSWORD}\n")
        if loaded.try_me_url:
            dob = loaded.try_me_dob
            out.write(f"\nThe patient's phone pages ({demo_data.TRY_ME}, date of birth "
                      f"{dob:%d/%m/%Y}):\n  {loaded.try_me_url}\n")

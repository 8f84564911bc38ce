"""``needlecare manage education_starter --as USERNAME``: import the starter articles into
that editor's clinic, each waiting for the clinic's clinical review (the same as the "Import
the starter articles" button)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from needlecare.access import Actor
from needlecare.accounts.models import User
from needlecare.education.starter import import_starter_set
from needlecare.errors import ServiceError


class Command(BaseCommand):
    help = "Import Needlecare's starter articles into a clinic (as drafts waiting for review)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as", dest="username", required=True,
                            help="an editor (or owner) of the clinic; the import is audited "
                                 "as theirs")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None or user.clinic_id is None:
            raise CommandError(f"no active staff member {options['username']!r} with a clinic")
        try:
            made = import_starter_set(Actor(user=user))
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Imported {len(made)} starter articles into {user.clinic}; each "
                          "waits for a clinician's review on the Articles page.\n")

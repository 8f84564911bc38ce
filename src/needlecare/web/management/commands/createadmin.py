"""``needlecare createadmin``: a clinic's first owner, interactively or from flags.

    needlecare createadmin                       # asks for everything
    needlecare createadmin --username ana --clinic "Harbour Skin" --phone "020 7946 0999" \
        --password-stdin < password.txt          # scripted

An existing clinic of that name gets the new owner; otherwise the clinic is created. Later
staff are added by an owner on the Staff page.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from needlecare.errors import ServiceError
from needlecare.web.bootstrap import NewOwner, create_owner


class Command(BaseCommand):
    help = "Create a clinic owner (and the clinic, if it does not exist yet)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username")
        parser.add_argument("--clinic", help="the clinic's name")
        parser.add_argument("--phone", help="the phone number patients call (new clinics)")
        parser.add_argument("--first-name", default=None)
        parser.add_argument("--last-name", default=None)
        parser.add_argument("--email", default=None)
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                            help="never prompt; fail when something is missing")

    def handle(self, *args: Any, **options: Any) -> None:
        interactive = options["interactive"] and sys.stdin.isatty()
        values = {}
        for key, prompt, required in (
                ("username", "Username", True), ("clinic", "Clinic name", True),
                ("phone", "Phone number patients call (blank for an existing clinic)", False),
                ("first_name", "First name", False), ("last_name", "Last name", False),
                ("email", "Email", False)):
            value = options[key]
            if value is None and interactive:
                value = input(f"{prompt}: ")
            if required and not (value or "").strip():
                raise CommandError(f"--{key.replace('_', '-')} is required")
            values[key] = value or ""
        password = self._password(options["password_stdin"], interactive)
        try:
            user = create_owner(NewOwner(
                clinic_name=values["clinic"], clinic_phone=values["phone"],
                username=values["username"], password=password,
                first_name=values["first_name"], last_name=values["last_name"],
                email=values["email"]))
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Created owner {user.username} of {user.clinic}.")

    def _password(self, from_stdin: bool, interactive: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\r\n")
        if not interactive:
            raise CommandError("no password: use --password-stdin, or run in a terminal")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the passwords differ")
        return first

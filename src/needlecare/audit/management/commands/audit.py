"""``needlecare audit verify`` checks the audit trail's hash chains; ``needlecare audit seal``
seals what is waiting now (the worker does this every few seconds).

``verify`` exits 0 when every chain is intact and 2 at the first row that is not, naming it.
Either way it says how old the oldest unsealed row is: a row is protected from the moment it
is sealed, so an age much above the worker's interval means the worker is not running.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from needlecare import clock
from needlecare.audit import chain

EXIT_BROKEN = 2


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Command(BaseCommand):
    help = "Check (verify) or extend (seal) the audit trail's hash chains."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True, metavar="verify|seal")
        sub.add_parser("verify", help="check every chain; exit 2 at the first broken row")
        sub.add_parser("seal", help="seal every row that is waiting now")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "seal":
            count = chain.seal_all()
            self.stdout.write(f"Sealed {count} audit row(s).")
            return
        report = chain.verify()
        age = report.oldest_unsealed_age(clock.now())
        waiting = ("no row is waiting to be sealed" if age is None else
                   f"{report.unsealed} row(s) waiting to be sealed, the oldest for "
                   f"{_age(max(0.0, age.total_seconds()))}")
        if report.broken is not None:
            self.stderr.write(f"Audit trail BROKEN: {report.broken}")
            self.stderr.write(waiting)
            sys.exit(EXIT_BROKEN)
        self.stdout.write(f"Audit trail intact: {report.sealed} sealed row(s) in "
                          f"{report.chains} chain(s); {waiting}.")

"""``needlecare worker``: send what the outbox holds, as it falls due."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from needlecare.documents.pdf import warm_up
from needlecare.messaging import heartbeat
from needlecare.messaging.outbox import DEFAULT_BATCH
from needlecare.messaging.worker import default_worker_id, run_worker


class Command(BaseCommand):
    help = ("Send due messages from the outbox (email and SMS), retrying failures with "
            "back-off. Runs until stopped (SIGTERM or Ctrl-C finish the current message).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true",
                            help="send everything due now, then exit")
        parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, metavar="N",
                            help=f"rows claimed per pass (default {DEFAULT_BATCH})")
        parser.add_argument("--interval", type=float, default=None, metavar="SECONDS",
                            help="pause between passes when nothing is due "
                                 "(default NEEDLECARE_WORKER_POLL_SECONDS or 5)")
        parser.add_argument("--name", default=None,
                            help="this worker's name in the outbox (default host:pid:random)")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def finish(signum: int, frame: Any) -> None:
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, finish)
        name = options["name"] or default_worker_id()
        # The heartbeat runs beside the sends, so a long send never makes this worker look
        # dead; when the process dies the beats stop and its claims are released.
        heartbeat.forget_silent()
        heartbeat.beat(name)
        beating = threading.Event()
        heartbeat.Heartbeat(name, beating).start()
        if not options["once"]:
            warm_up()
        if options["verbosity"] > 0 and not options["once"]:
            self.stdout.write(f"Outbox worker {name} started (Ctrl-C stops it).")
            self.stdout.flush()
        try:
            handled = run_worker(once=options["once"], batch=max(1, options["batch"]),
                                 interval=options["interval"], worker=name, stop=stop)
        finally:
            beating.set()
            heartbeat.stopped(name)
        if options["verbosity"] > 0:
            self.stdout.write(f"Outbox worker {name}: {handled} message(s) handled.")

"""Builders for the messaging tests: a clinic in London with an opted-in patient whose session
is booked and charted, a clock the tests move, and the worker run once."""

from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client

from needlecare.access import Actor
from needlecare.accounts.models import Clinic, Role, User
from needlecare.care import services as care
from needlecare.care.models import SessionStatus, TreatmentPlan, TreatmentSession
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.messaging.models import Message
from needlecare.messaging.worker import run_worker
from needlecare.patients.models import Patient
from needlecare.recovery import services as recovery
from needlecare.recovery.models import PatientLink
from tests.factories import make_clinic, make_consent, make_consultation, make_patient, make_user

LONDON = ZoneInfo("Europe/London")
#: The messaging world's clinic hours: Monday to Friday, 09:00–17:30.
WEEKDAYS_9_TO_5_30 = {str(day): [["09:00", "17:30"]] for day in range(5)}
#: A Monday morning in winter time; the clocks go forward on 29 March 2026.
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=LONDON)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


@dataclass
class World:
    clinic: Clinic
    clinician: User
    owner: User
    front_desk: User
    patient: Patient
    plan: TreatmentPlan
    session: TreatmentSession

    def actor(self, user: User | None = None) -> Actor:
        return Actor(user=user or self.clinician)

    def client(self, user: User | None = None) -> Client:
        client = Client()
        client.force_login(user or self.clinician)
        return client


def make_world(*, channel: str = "email", opt_in: bool = True, clinic: Clinic | None = None,
               booked_for: dt.datetime | None = None) -> World:
    """A clinic (Europe/London) with one user per role and a patient with a valid consent, a
    plan (3 sessions, 28 days apart) and a session booked for now."""
    from django.utils import timezone

    from tests.factories import make_plan

    clinic = clinic or make_clinic(time_zone="Europe/London", opening_hours=WEEKDAYS_9_TO_5_30)
    clinician = make_user(clinic, Role.CLINICIAN, email="clinician@example.test")
    owner = make_user(clinic, Role.OWNER, email="owner@example.test")
    front_desk = make_user(clinic, Role.FRONT_DESK, email="desk@example.test")
    patient = make_patient(clinic, clinician, preferred_channel=channel,
                           messages_opt_in=opt_in)
    consultation = make_consultation(patient, clinician)
    make_consent(patient, clinician)
    plan = make_plan(consultation, clinician)
    session = TreatmentSession.objects.create(
        clinic=clinic, patient=patient, plan=plan, status=SessionStatus.BOOKED,
        scheduled_for=booked_for or timezone.now(), booked_by=front_desk)
    return World(clinic=clinic, clinician=clinician, owner=owner, front_desk=front_desk,
                 patient=patient, plan=plan, session=session)


def chart(day: dt.date) -> care.ChartData:
    return care.ChartData(
        performed_on=day, device="pen", device_model="Synthetic Pen 3",
        cartridge_lot="CART-1", cartridge_expiry=day + dt.timedelta(days=200),
        zones=(care.ZoneRow("cheeks", Decimal("1.50"), 3),),
        endpoint_reached="uniform pinpoint bleeding")


def sign(world: World) -> TreatmentSession:
    from django.utils import timezone

    return care.sign_session(world.actor(), world.session.pk, chart(timezone.localdate()))


def work() -> int:
    """Run the worker until nothing is due (what `needlecare worker --once` does)."""
    return run_worker(once=True, worker="test-worker")


def messages(**filters: Any) -> list[Message]:
    return list(Message.objects.filter(**filters).order_by("due_at", "id"))


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(LONDON)


def live_link(session: TreatmentSession) -> PatientLink:
    """The working personal link of the session's patient."""
    return PatientLink.objects.filter(patient_id=session.patient_id,
                                      revoked_at__isnull=True).get()


def check_in(link: PatientLink, *, flags: tuple[str, ...] = (),
             symptoms: dict[str, tuple[int, str]] | None = None) -> Any:
    """The patient checks in through their link."""
    answers = {
        "symptoms": {code: {"severity": severity, "trend": trend}
                     for code, (severity, trend) in (symptoms or {
                         "redness": (2, "better")}).items()},
        "red_flags": {code: code in flags for code in RED_FLAGS},
        "note": "",
    }
    link = PatientLink.objects.select_related("clinic", "patient").get(pk=link.pk)
    return recovery.submit_checkin(Actor.for_link(link), answers)


class RefusingEmailBackend(BaseEmailBackend):
    """An SMTP server that refuses every message."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPDataError(554, b"5.7.1 Message rejected: relay denied")


# --- a local SMS provider -------------------------------------------------------------------

class WebhookSink:
    """An HTTP server on 127.0.0.1 that records each POST and answers with the next status
    of ``statuses`` (the last one repeats). ``block_first`` holds the first request open until
    ``release`` is set (a provider that hangs)."""

    def __init__(self, statuses: tuple[int, ...] = (200,), block_first: bool = False) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.statuses = list(statuses)
        self.requests: list[dict[str, Any]] = []
        self.received = threading.Event()
        self.release = threading.Event()
        self.block_first = block_first
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                number = len(sink.requests)
                sink.requests.append({"headers": dict(self.headers.items()), "body": body,
                                      "path": self.path})
                sink.received.set()
                if sink.block_first and number == 0:
                    sink.release.wait(120)
                status = sink.statuses[min(number, len(sink.statuses) - 1)]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error": "provider unavailable"}' if status >= 400
                                 else b'{"id": "provider-1"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class SilentEmailBackend(BaseEmailBackend):
    """A backend that reports having sent nothing (and raises nothing)."""

    def send_messages(self, email_messages: Any) -> int:
        return 0


class PickyEmailBackend(BaseEmailBackend):
    """Refuses the aftercare plan and delivers everything else (to Django's locmem outbox)."""

    def send_messages(self, email_messages: Any) -> int:
        from django.core.mail.backends.locmem import EmailBackend

        if any(m.subject.startswith("Your aftercare plan") for m in email_messages):
            raise smtplib.SMTPRecipientsRefused({"sam@example.test": (550, b"mailbox full")})
        return EmailBackend().send_messages(email_messages)

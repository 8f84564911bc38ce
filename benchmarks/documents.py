"""How long the patient documents take to make: the aftercare plan and signed consent PDFs
(WeasyPrint) and the calendar file.

Run with ``python benchmarks/documents.py`` (``--runs N`` to change the count). The script
migrates a fresh SQLite database in a temporary directory, creates one clinic, patient, signed
session (with the aftercare plan signing stores) and signed treatment consent, then renders
each document once cold (the first render in a process also loads fonts and parses the
templates) and N more times, and prints the median of those. Target: under one second for each
PDF (warm median); the cold figure is printed for information.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from targets import quick, target_line

TARGET_S = 1.0


def _setup(var_dir: Path) -> None:
    os.environ["NEEDLECARE_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needlecare.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _records() -> tuple[Any, Any]:
    """A signed session with its stored aftercare plan, and a signed treatment consent."""
    import datetime as dt

    from django.utils import timezone

    from needlecare.accounts.models import Clinic, Role, User
    from needlecare.care import consent_texts
    from needlecare.care.aftercare import record_aftercare
    from needlecare.care.models import (
        Consent,
        Consultation,
        SessionStatus,
        SessionZone,
        TreatmentPlan,
        TreatmentSession,
    )
    from needlecare.patients.models import Patient

    clinic = Clinic.objects.create(name="Benchmark Skin Clinic", slug="bench",
                                   phone="020 7946 0999", address="1 Example Street\nLondon")
    clinician = User.objects.create(username="bench.clinician", clinic=clinic,
                                    role=Role.CLINICIAN, first_name="Robin",
                                    last_name="Example")
    patient = Patient.objects.create(clinic=clinic, given_name="Sam", family_name="Example",
                                     date_of_birth=dt.date(1990, 5, 17), created_by=clinician)
    text = consent_texts.current("treatment")
    consent = Consent.objects.create(
        clinic=clinic, patient=patient, kind="treatment", text_version=text.version,
        text=text.text, signed_name=patient.full_name, signed_at=timezone.now(),
        witnessed_by=clinician)
    consultation = Consultation.objects.create(
        clinic=clinic, patient=patient, created_by=clinician, intake={}, result={},
        protocol_version="microneedling-2026.1", verdict="suitable")
    plan = TreatmentPlan.objects.create(
        clinic=clinic, patient=patient, consultation=consultation, created_by=clinician,
        indications=["acne_scars"], zones=["cheeks", "forehead"], fitzpatrick=4, generated={},
        protocol_version="microneedling-2026.1", sessions_planned=3, interval_days=28,
        depth_ranges={"cheeks": [1.5, 2.0], "forehead": [0.5, 1.0]})
    today = timezone.localdate()
    session = TreatmentSession.objects.create(
        clinic=clinic, patient=patient, plan=plan, status=SessionStatus.SIGNED,
        scheduled_for=timezone.now(), booked_by=clinician, performed_on=today,
        practitioner=clinician, device="pen", consent=consent, signed_at=timezone.now(),
        signed_by=clinician,
        products=[{"code": "hyaluronic_acid", "name": "HA glide", "lot": "HA-1"}])
    SessionZone.objects.create(session=session, zone="cheeks", depth_mm="1.50", passes=3)
    SessionZone.objects.create(session=session, zone="forehead", depth_mm="0.75", passes=2)
    record_aftercare(session)
    return session, consent


def _measure(render: Callable[[], bytes], runs: int) -> tuple[float, float, bytes]:
    start = time.perf_counter()
    content = render()
    cold = time.perf_counter() - start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render()
        times.append(time.perf_counter() - start)
    return cold, statistics.median(times), content


def _pages(content: bytes) -> str:
    try:
        import io

        import pypdf
    except ImportError:  # a dev dependency
        return "?"
    return str(len(pypdf.PdfReader(io.BytesIO(content)).pages))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1 if quick() else 5,
                        help="timed renders after the cold one (default 5)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="needlecare-bench-docs-") as var_dir:
        _setup(Path(var_dir))
        from needlecare.documents import services

        session, consent = _records()
        rows = [
            ("aftercare plan (PDF)", lambda: services.aftercare_pdf(session), True),
            ("signed consent (PDF)", lambda: services.consent_pdf(consent), True),
            ("check-in calendar (.ics)", lambda: services.calendar_ics(session), False),
        ]
        print(f"{'document':<26}{'pages':>6}{'size':>10}{'cold':>10}"
              f"{f'median of {args.runs}':>14}  target")
        verdicts = []
        for label, render, is_pdf in rows:
            cold, median, content = _measure(render, args.runs)
            pages = _pages(content) if is_pdf else "—"
            print(f"{label:<26}{pages:>6}{len(content) / 1024:>8.1f}kB{cold * 1000:>8.0f}ms"
                  f"{median * 1000:>12.0f}ms  {f'< {TARGET_S:.0f} s' if is_pdf else '—'}")
            if is_pdf:
                verdicts.append(target_line(f"{label} render, warm median",
                                            f"{median * 1000:.0f} ms",
                                            f"< {TARGET_S * 1000:.0f} ms", median < TARGET_S))
        print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Photo analysis in the worker: the photos table is its own job queue.

A photo waiting to be checked is ``pending``. The outbox worker (``needlecare worker``,
messaging/worker.py) claims due photos on each pass with a compare-and-set update, as it claims
messages (safe with many workers, on SQLite and PostgreSQL), reads the stored original, runs
the imaging core's analysis, records quality, landmarks and redness, measures the change from
the baseline and feeds a check-in's photo to triage. A claim runs out after ``CLAIM_TIMEOUT``
(a worker that died mid-analysis): the photo is then claimed again. After ``MAX_ATTEMPTS``
failures the photo is marked ``failed`` with the error, visible to staff; it is still kept.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F, Q

from needlecare import clock
from needlecare.access import Actor, audit
from needlecare.imaging.analysis import analyse
from needlecare.imaging.colour import decode_for_measurement
from needlecare.photos import files, measurement
from needlecare.photos.models import AnalysisStatus, Photo

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 3
DEFAULT_BATCH = 5


def _claimable(now: dt.datetime) -> Q:
    return Q(analysis_status=AnalysisStatus.PENDING) | Q(
        analysis_status=AnalysisStatus.RUNNING, analysis_claimed_until__lt=now)


def claim(worker: str, *, batch: int = DEFAULT_BATCH, now: dt.datetime | None = None
          ) -> list[int]:
    """Claim up to ``batch`` photos waiting for analysis, oldest first."""
    now = now or clock.now()
    candidates = list(Photo.objects.filter(_claimable(now)).order_by("uploaded_at", "id")
                      .values_list("pk", flat=True)[:batch])
    claimed = []
    for pk in candidates:
        with transaction.atomic():
            won = Photo.objects.filter(_claimable(now), pk=pk).update(
                analysis_status=AnalysisStatus.RUNNING, analysis_claimed_by=worker,
                analysis_claimed_until=now + CLAIM_TIMEOUT,
                analysis_attempts=F("analysis_attempts") + 1)
        if won:
            claimed.append(pk)
    return claimed


def _failed(photo_id: int, worker: str, attempts: int, exc: BaseException) -> str:
    status = str(AnalysisStatus.FAILED if attempts >= MAX_ATTEMPTS else AnalysisStatus.PENDING)
    Photo.objects.filter(pk=photo_id, analysis_claimed_by=worker).update(
        analysis_status=status, analysis_error=f"{type(exc).__name__}: {exc}"[:1000],
        analysis_claimed_until=None)
    return status


def run(photo_id: int, worker: str) -> str:
    """Analyse one claimed photo; returns the status recorded ("" when the claim was lost).

    The measurement and its triage input are recorded in one transaction: if triage cannot
    take the photo, nothing is recorded and the photo is analysed again on a later pass, so
    a finding is never stored without reaching triage."""
    photo = Photo.objects.filter(pk=photo_id, analysis_status=AnalysisStatus.RUNNING,
                                 analysis_claimed_by=worker).first()
    if photo is None:
        return ""
    system = Actor()
    try:
        analysis = analyse(decode_for_measurement(files.read(photo.original_name)),
                           measurement.ZONES)
        with transaction.atomic():
            current = (Photo.objects.select_for_update(of=("self",))
                       .select_related("clinic", "session", "checkin")
                       .filter(pk=photo_id, analysis_status=AnalysisStatus.RUNNING,
                               analysis_claimed_by=worker).first())
            if current is None:
                return ""
            measurement.apply_analysis(current, analysis)
            measurement.measure_change(current)
            current.analysis_status = AnalysisStatus.DONE
            current.analysis_claimed_until = None
            current.analysis_error = ""
            current.analysed_at = clock.now()
            current.save()
            audit(system, "photo.analyse", patient=current.patient, obj=current, detail={
                "quality": [p["code"] for p in current.quality.get("problems", [])],
                "a_star_change": current.a_star_change})
            measurement.feed_triage(system, current)
    except Exception as exc:  # a damaged file, a library failure: visible to staff, retried
        logger.exception("photo %s could not be analysed", photo_id)
        return _failed(photo_id, worker, photo.analysis_attempts, exc)
    return str(AnalysisStatus.DONE)


def run_due(worker: str, *, batch: int = DEFAULT_BATCH) -> int:
    """One pass: claim and analyse the photos waiting; returns how many were claimed."""
    claimed = claim(worker, batch=batch)
    for pk in claimed:
        run(pk, worker)
    return len(claimed)

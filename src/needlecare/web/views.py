from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from needlecare import clock
from needlecare.access import Actor, Permission
from needlecare.messaging import heartbeat
from needlecare.web.backup import PROBE_DIRECTORY


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Clinicians start on their worklist; front desk on the patient list."""
    if Actor.from_request(request).can(Permission.VIEW_CLINICAL):
        return redirect("worklist")
    return redirect("patient-list")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for a load balancer, and the floor of benchmarks/checkin_load.py: the whole
    middleware stack and nothing else (no database query, no template)."""
    return HttpResponse("ok\n", content_type="text/plain")


def _database() -> dict[str, Any]:
    # A real query on a real table: a corrupt or unreachable database fails it.
    applied = MigrationRecorder.Migration.objects.count()
    if applied == 0:
        raise RuntimeError("no migrations applied; run `needlecare migrate`")
    return {"migrations": applied}


def _storage() -> dict[str, Any]:
    content = secrets.token_bytes(32)
    name = default_storage.save(f"{PROBE_DIRECTORY}/probe-{secrets.token_hex(8)}",
                                ContentFile(content))
    try:
        with default_storage.open(name, "rb") as stored:
            if stored.read() != content:
                raise RuntimeError("the probe file read back differs from what was written")
    finally:
        default_storage.delete(name)
    return {}


def _worker() -> dict[str, Any]:
    newest = heartbeat.newest_beat()
    if newest is None:
        raise RuntimeError("no worker has ever beaten; start `needlecare worker`")
    age = (clock.now() - newest).total_seconds()
    if age > float(settings.READYZ_WORKER_SECONDS):
        raise RuntimeError(f"the newest worker heartbeat is {age:.0f} s old")
    return {"last_heartbeat_seconds_ago": round(age, 1)}


_CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": _database, "storage": _storage, "worker": _worker}


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness for monitoring: the database answers a real query, the file storage takes a
    write and gives it back, and a worker has beaten recently. 200 when all three pass, 503
    with the failing check's reason otherwise. (``/healthz`` stays a bare liveness check.)"""
    results: dict[str, dict[str, Any]] = {}
    for name, check in _CHECKS.items():
        started = time.perf_counter()
        try:
            result = {"ok": True, **check()}
        except Exception as exc:  # any failure is the answer, not a server error
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        result["ms"] = round((time.perf_counter() - started) * 1000, 1)
        results[name] = result
    ready = all(r["ok"] for r in results.values())
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": results},
                        status=200 if ready else 503)

"""Who is held back from promotion, and why: rules that other apps can add to.

A newsletter never goes to a patient whose care says "not now": an escalation still open, an
urgent or emergency escalation in the last 30 days, or a patient under 18. Each rule is a
function of the clinic, the candidate patients and the moment that returns the patients it
holds back; the newsletter page shows the editor how many each rule held back, and the rules
are checked again when each message is sent (an escalation opened after scheduling still
stops it).

**Hook for adverse events.** The outcomes app records adverse events; when it lands it adds
its rule from its own ``AppConfig.ready()``::

    from needlecare.education import holdbacks
    holdbacks.register("adverse_event", _("an adverse event in the last 30 days"),
                       patients_with_recent_adverse_events)

(education sits above the clinical apps, so the rule lives with the data it reads and this
module never imports it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from needlecare.education.rules import is_minor
from needlecare.patients.models import Patient
from needlecare.recovery.models import Escalation, EscalationStatus, Level

#: How long an urgent or emergency escalation keeps promotion away.
RECENT = dt.timedelta(days=30)

#: (clinic id, patient ids, now) -> the ids it holds back.
Rule = Callable[[int, list[int], dt.datetime], set[int]]


@dataclass(frozen=True)
class Holdback:
    code: str
    label: str
    rule: Rule


_rules: dict[str, Holdback] = {}


def register(code: str, label: str, rule: Rule) -> None:
    """Add (or replace) a rule; ``label`` says why, in words the editor reads."""
    _rules[code] = Holdback(code, str(label), rule)


def rules() -> list[Holdback]:
    return list(_rules.values())


def label(code: str) -> str:
    found = _rules.get(code)
    return found.label if found is not None else code


def held_back(clinic_id: int, patient_ids: Iterable[int], now: dt.datetime
              ) -> dict[int, list[str]]:
    """Each held-back patient with the codes of every rule that holds them back."""
    ids = list(patient_ids)
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    for holdback in _rules.values():
        for pid in holdback.rule(clinic_id, ids, now):
            found.setdefault(pid, []).append(holdback.code)
    return found


def open_escalation(clinic_id: int, ids: list[int], now: dt.datetime) -> set[int]:
    return set(Escalation.objects.filter(clinic_id=clinic_id, patient_id__in=ids)
               .exclude(status=EscalationStatus.CLOSED).values_list("patient_id", flat=True))


def recent_serious_escalation(clinic_id: int, ids: list[int], now: dt.datetime) -> set[int]:
    return set(Escalation.objects.filter(
        Q(opened_at__gte=now - RECENT) | Q(closed_at__gte=now - RECENT),
        clinic_id=clinic_id, patient_id__in=ids,
        level__in=(Level.URGENT, Level.EMERGENCY)).values_list("patient_id", flat=True))


def minor(clinic_id: int, ids: list[int], now: dt.datetime) -> set[int]:
    today = timezone.localdate(now)
    return {pid for pid, born in Patient.objects.filter(clinic_id=clinic_id, pk__in=ids)
            .values_list("pk", "date_of_birth") if is_minor(born, today)}


def register_builtin() -> None:
    register("open_escalation", _("an escalation is still open"), open_escalation)
    register("recent_serious_escalation",
             _("an urgent or emergency escalation in the last 30 days"),
             recent_serious_escalation)
    register("minor", _("under 18"), minor)

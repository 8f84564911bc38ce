"""What a photo may be used for, now.

A photo records the uses its patient's photo consent allowed when it was taken (``scopes``).
What it may be used for *now* is those, narrowed by the consent in force today: the latest
signed photo consent that has not been withdrawn, less the uses withdrawn one by one
(``ScopeWithdrawal``). Every page, file, export and sheet asks ``effective_scopes`` when it is
made, so a withdrawal takes effect at once, everywhere. The clinical record always remains:
photos already in the record are kept for the clinic's record-keeping period even when the
patient withdraws (the consent text says so); no new photo is taken without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from needlecare import clock
from needlecare.care.models import Consent, ConsentKind
from needlecare.photos.models import Photo, Scope, ScopeWithdrawal

#: The order uses are shown in.
ORDER: list[str] = [str(s) for s in (Scope.CLINICAL_RECORD, Scope.SHOWN_TO_PATIENT,
                                     Scope.TEACHING, Scope.MARKETING)]


@dataclass(frozen=True)
class UsesInForce:
    """The patient's photo consent in force (if any) and the uses it allows today."""

    consent: Consent | None
    uses: frozenset[str]

    @property
    def allows_new_photos(self) -> bool:
        return Scope.CLINICAL_RECORD in self.uses

    def ordered(self) -> list[str]:
        return [s for s in ORDER if s in self.uses]


def photo_consent(patient_id: int) -> Consent | None:
    """The patient's latest signed photo consent that has not been withdrawn."""
    return (Consent.objects.filter(patient_id=patient_id, kind=ConsentKind.PHOTOS,
                                   withdrawn_at__isnull=True, signed_at__lte=clock.now())
            .order_by("-signed_at", "-id").first())


def uses_in_force(patient_id: int) -> UsesInForce:
    consent = photo_consent(patient_id)
    if consent is None:
        return UsesInForce(None, frozenset())
    uses = [u for u in consent.photo_uses if u != Scope.CLINICAL_RECORD]
    # The clinical record cannot be withdrawn on its own (only the whole consent can), so a
    # consent that allows nothing more needs no look at withdrawals.
    withdrawn = set(ScopeWithdrawal.objects.filter(consent=consent).values_list(
        "scope", flat=True)) if uses else set()
    return UsesInForce(consent, frozenset(u for u in consent.photo_uses if u not in withdrawn))


def effective_scopes(photo: Photo, in_force: UsesInForce) -> list[str]:
    """The uses ``photo`` may be put to now, in display order."""
    allowed = set(in_force.uses) | {Scope.CLINICAL_RECORD}
    return [s for s in ORDER if s in photo.scopes and s in allowed]


def allows(photo: Photo, scope: str, in_force: UsesInForce) -> bool:
    return scope in effective_scopes(photo, in_force)


def labels(scopes: Iterable[str]) -> list[str]:
    names = dict(Scope.choices)
    return [str(names.get(s, s)) for s in scopes]

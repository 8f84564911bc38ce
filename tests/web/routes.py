"""Every staff route that touches patient data or staff accounts, for the persona tests.

tests/web/test_access_personas.py checks each route below, as each persona:

- anonymous: redirected to the sign-in page;
- a user of ANOTHER clinic whose role has the permission: 404 (another clinic's records are
  "not found"), for every route whose address names a record;
- a user of the same clinic whose role lacks the permission: 403;
- a user of the same clinic whose role has it: answered (status below 400), never a 500.

To cover a new route, append one ``Route`` to the list of your area (plain tuples in the same
order work too)::

    Route("session-detail", lambda j: {"pk": j["session"].pk}, "get", Permission.VIEW_CLINICAL)

- ``name``: the URL name;
- ``kwargs``: builds the URL's kwargs from the journey that
  ``tests.factories.journey_to_signed_session()`` returns (keys: clinic, clinician, owner,
  front_desk, patient, consultation, plan, session). It may create the record it needs
  (e.g. an escalation for that journey's session) and return its pk; ``{}`` for none;
- ``method``: "get" or "post" (a post is sent with an empty body: the allowed persona must
  get the form back with its errors, or a redirect; nothing may break);
- ``permission``: the least ``needlecare.access.Permission`` the route requires.

Routes a patient reaches with a personal link (patient-home and friends) are not staff routes;
they belong in a list of their own, with their own persona test (another patient's token, an
expired or revoked token).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from needlecare.access import Permission

Journey = dict[str, Any]


class Route(NamedTuple):
    name: str
    kwargs: Callable[[Journey], dict[str, Any]]
    method: str
    permission: Permission


def _no_kwargs(journey: Journey) -> dict[str, Any]:
    return {}


def _patient(journey: Journey) -> dict[str, Any]:
    return {"pk": journey["patient"].pk}


PATIENT_ROUTES: list[Route] = [
    Route("patient-list", _no_kwargs, "get", Permission.VIEW_DEMOGRAPHICS),
    Route("patient-new", _no_kwargs, "get", Permission.REGISTER_PATIENT),
    Route("patient-new", _no_kwargs, "post", Permission.REGISTER_PATIENT),
    Route("patient-detail", _patient, "get", Permission.VIEW_DEMOGRAPHICS),
    Route("patient-edit", _patient, "get", Permission.REGISTER_PATIENT),
    Route("patient-edit", _patient, "post", Permission.REGISTER_PATIENT),
]

STAFF_ROUTES: list[Route] = [
    Route("staff-list", _no_kwargs, "get", Permission.MANAGE_STAFF),
    Route("staff-new", _no_kwargs, "get", Permission.MANAGE_STAFF),
    Route("staff-new", _no_kwargs, "post", Permission.MANAGE_STAFF),
    Route("staff-edit", lambda j: {"pk": j["clinician"].pk}, "get", Permission.MANAGE_STAFF),
    Route("staff-edit", lambda j: {"pk": j["clinician"].pk}, "post", Permission.MANAGE_STAFF),
    Route("clinic-settings", _no_kwargs, "get", Permission.MANAGE_CLINIC),
    Route("clinic-settings", _no_kwargs, "post", Permission.MANAGE_CLINIC),
    Route("closure-add", _no_kwargs, "post", Permission.MANAGE_CLINIC),
]


def _consultation(journey: Journey) -> dict[str, Any]:
    return {"pk": journey["consultation"].pk}


def _consent(journey: Journey) -> dict[str, Any]:
    from needlecare.care.models import Consent

    return {"pk": Consent.objects.filter(patient=journey["patient"]).latest("id").pk}


def _plan(journey: Journey) -> dict[str, Any]:
    return {"pk": journey["plan"].pk}


def _session(journey: Journey) -> dict[str, Any]:
    return {"pk": journey["session"].pk}


CARE_ROUTES: list[Route] = [
    Route("consultation-new", lambda j: {"patient_pk": j["patient"].pk}, "get",
          Permission.WRITE_CLINICAL),
    Route("consultation-new", lambda j: {"patient_pk": j["patient"].pk}, "post",
          Permission.WRITE_CLINICAL),
    Route("consultation-detail", _consultation, "get", Permission.VIEW_CLINICAL),
    Route("consultation-override", _consultation, "post", Permission.WRITE_CLINICAL),
    # The signed-in clinician or owner witnesses the patient's signature.
    Route("consent-new", lambda j: {"patient_pk": j["patient"].pk}, "get",
          Permission.WRITE_CLINICAL),
    Route("consent-new", lambda j: {"patient_pk": j["patient"].pk}, "post",
          Permission.WRITE_CLINICAL),
    Route("consent-detail", _consent, "get", Permission.VIEW_CLINICAL),
    Route("consent-withdraw", _consent, "post", Permission.WRITE_CLINICAL),
    Route("plan-new", lambda j: {"consultation_pk": j["consultation"].pk}, "get",
          Permission.WRITE_CLINICAL),
    Route("plan-new", lambda j: {"consultation_pk": j["consultation"].pk}, "post",
          Permission.WRITE_CLINICAL),
    Route("plan-detail", _plan, "get", Permission.VIEW_CLINICAL),
    Route("plan-edit", _plan, "get", Permission.WRITE_CLINICAL),
    Route("plan-edit", _plan, "post", Permission.WRITE_CLINICAL),
    Route("session-book", lambda j: {"plan_pk": j["plan"].pk}, "get", Permission.BOOK),
    Route("session-book", lambda j: {"plan_pk": j["plan"].pk}, "post", Permission.BOOK),
    # The front desk gets the booking only; the chart is for clinicians.
    Route("session-detail", _session, "get", Permission.BOOK),
    Route("session-detail", _session, "post", Permission.WRITE_CLINICAL),
    Route("session-sign", _session, "post", Permission.SIGN),
    Route("session-addendum", _session, "post", Permission.WRITE_CLINICAL),
    Route("session-cancel", _session, "post", Permission.BOOK),
    Route("lot-search", _no_kwargs, "get", Permission.VIEW_CLINICAL),
]


def _recovery_checkin(journey: Journey) -> Any:
    """A check-in with a fever for the journey's session (through the patient's own link),
    which opens an escalation; made once per journey."""
    from needlecare.access import Actor
    from needlecare.clinical.vocabulary import RED_FLAGS
    from needlecare.recovery import services
    from needlecare.recovery.models import CheckIn

    existing = CheckIn.objects.filter(session=journey["session"]).first()
    if existing is not None:
        return existing
    return services.submit_checkin(Actor.for_link(_live_link(journey)), {
        "symptoms": {}, "red_flags": {code: code == "fever_or_chills" for code in RED_FLAGS},
        "note": ""}).checkin


def _escalation(journey: Journey) -> dict[str, Any]:
    return {"pk": _recovery_checkin(journey).escalation_id}


def _live_link(journey: Journey) -> Any:
    """The patient's working link, made once per journey (a clinician sends it)."""
    from needlecare.access import Actor
    from needlecare.recovery import links
    from needlecare.recovery.models import PatientLink

    link = links.live_link(journey["patient"].pk) or links.send_link(
        Actor(user=journey["clinician"]), journey["patient"].pk)
    return PatientLink.objects.select_related("clinic").get(pk=link.pk)


def _link(journey: Journey) -> dict[str, Any]:
    return {"pk": _live_link(journey).pk}


def _link_patient(journey: Journey) -> dict[str, Any]:
    return {"patient_pk": journey["patient"].pk}


RECOVERY_ROUTES: list[Route] = [
    # Front desk may see and send a patient's personal link; replacing, revoking and
    # unlocking it are clinical decisions, and so is everything else here. (The patient's own
    # pages, /p/<token>/..., are covered in tests/web/recovery.)
    Route("patient-link", _link_patient, "get", Permission.BOOK),
    Route("link-send", _link_patient, "post", Permission.BOOK),
    Route("link-replace", _link_patient, "post", Permission.WRITE_CLINICAL),
    Route("link-revoke", _link, "post", Permission.WRITE_CLINICAL),
    Route("link-unlock", _link, "post", Permission.WRITE_CLINICAL),
    Route("worklist", _no_kwargs, "get", Permission.VIEW_CLINICAL),
    Route("escalation-detail", _escalation, "get", Permission.VIEW_CLINICAL),
    Route("escalation-acknowledge", _escalation, "post", Permission.WRITE_CLINICAL),
    Route("escalation-note", _escalation, "post", Permission.WRITE_CLINICAL),
    Route("escalation-close", _escalation, "post", Permission.WRITE_CLINICAL),
    Route("checkin-detail", lambda j: {"pk": _recovery_checkin(j).pk}, "get",
          Permission.VIEW_CLINICAL),
]


def _article(journey: Journey) -> dict[str, Any]:
    from needlecare.access import Actor
    from needlecare.education.articles import create_article
    from tests.web.education.support import draft

    return {"pk": create_article(Actor(user=journey["owner"]), draft()).pk}


def _article_version(journey: Journey) -> dict[str, Any]:
    return {**_article(journey), "number": 1}


def _campaign(journey: Journey) -> dict[str, Any]:
    from needlecare.access import Actor
    from needlecare.education.newsletter import CampaignDraft, create_campaign

    return {"pk": create_campaign(Actor(user=journey["owner"]),
                                  CampaignDraft(subject="News", body="Hello.")).pk}


EDUCATION_ROUTES: list[Route] = [
    # Reading the articles: editors and clinical reviewers; writing them: editors (owners,
    # and staff an owner marks as editors); the newsletter: editors; its settings: owners.
    Route("article-list", _no_kwargs, "get", Permission.REVIEW_ARTICLES),
    Route("article-new", _no_kwargs, "get", Permission.EDIT_ARTICLES),
    Route("article-new", _no_kwargs, "post", Permission.EDIT_ARTICLES),
    Route("article-import-starter", _no_kwargs, "post", Permission.EDIT_ARTICLES),
    Route("article-detail", _article, "get", Permission.REVIEW_ARTICLES),
    Route("article-version", _article_version, "get", Permission.REVIEW_ARTICLES),
    Route("article-edit", _article, "get", Permission.EDIT_ARTICLES),
    Route("article-edit", _article, "post", Permission.EDIT_ARTICLES),
    Route("article-submit", _article, "post", Permission.EDIT_ARTICLES),
    Route("article-review", _article, "post", Permission.REVIEW_ARTICLES),
    Route("article-publish", _article, "post", Permission.EDIT_ARTICLES),
    Route("article-unpublish", _article, "post", Permission.EDIT_ARTICLES),
    Route("campaign-list", _no_kwargs, "get", Permission.EDIT_ARTICLES),
    Route("campaign-new", _no_kwargs, "get", Permission.EDIT_ARTICLES),
    Route("campaign-new", _no_kwargs, "post", Permission.EDIT_ARTICLES),
    Route("campaign-detail", _campaign, "get", Permission.EDIT_ARTICLES),
    Route("campaign-edit", _campaign, "get", Permission.EDIT_ARTICLES),
    Route("campaign-edit", _campaign, "post", Permission.EDIT_ARTICLES),
    Route("campaign-test", _campaign, "post", Permission.EDIT_ARTICLES),
    Route("campaign-schedule", _campaign, "post", Permission.EDIT_ARTICLES),
    Route("campaign-cancel", _campaign, "post", Permission.EDIT_ARTICLES),
    Route("newsletter-settings", _no_kwargs, "get", Permission.MANAGE_CLINIC),
    Route("newsletter-settings", _no_kwargs, "post", Permission.MANAGE_CLINIC),
]

def _appointment(journey: Journey) -> Any:
    """A consultation booked for the journey's patient in three days (once per journey), with
    its pre-visit forms signed ahead."""
    import datetime as dt

    from needlecare.access import Actor
    from needlecare.clock import now
    from needlecare.diary import services
    from needlecare.diary.models import Appointment, PreVisit, PreVisitSignature
    from needlecare.diary.resources import clinic_types

    found = Appointment.objects.filter(patient=journey["patient"]).first()
    if found is not None:
        return found
    kind = next(t for t in clinic_types(journey["clinic"].pk) if t.kind == "consultation")
    start = (now() + dt.timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    appointment = services.book(Actor(user=journey["front_desk"]), services.Proposal(
        patient_id=journey["patient"].pk, type_id=kind.pk,
        practitioner_id=journey["clinician"].pk, starts_at=start))
    previsit = PreVisit.objects.get(appointment=appointment)
    PreVisitSignature.objects.create(previsit=previsit, consent_kind="treatment",
                                     text_version="treatment-2026.1", text_sha256="0" * 64,
                                     kind="typed", typed_name=journey["patient"].full_name,
                                     signed_at=now())
    return appointment


def _appointment_pk(journey: Journey) -> dict[str, Any]:
    return {"pk": _appointment(journey).pk}


def _previsit(journey: Journey) -> dict[str, Any]:
    return {"pk": _appointment(journey).previsit.pk}


def _signature(journey: Journey) -> dict[str, Any]:
    return {"pk": _appointment(journey).previsit.signatures.get().pk}


def _waitlist_entry(journey: Journey) -> dict[str, Any]:
    from needlecare.diary.models import WaitlistEntry
    from needlecare.diary.resources import clinic_types

    entry = WaitlistEntry.objects.filter(patient=journey["patient"]).first() or \
        WaitlistEntry.objects.create(clinic=journey["clinic"], patient=journey["patient"],
                                     type=clinic_types(journey["clinic"].pk)[0])
    return {"pk": entry.pk}


def _request(journey: Journey) -> dict[str, Any]:
    from needlecare.diary.models import BookingRequest

    found = BookingRequest.objects.filter(clinic=journey["clinic"]).first() or \
        BookingRequest.objects.create(clinic=journey["clinic"], given_name="Aisha",
                                      family_name="Brennan", phone="07700 900099")
    return {"pk": found.pk}


DIARY_ROUTES: list[Route] = [
    Route("diary-today", _no_kwargs, "get", Permission.BOOK),
    Route("diary-day", _no_kwargs, "get", Permission.BOOK),
    Route("diary-week", _no_kwargs, "get", Permission.BOOK),
    Route("diary-book", _no_kwargs, "get", Permission.BOOK),
    Route("diary-book", _no_kwargs, "post", Permission.BOOK),
    Route("appointment-detail", _appointment_pk, "get", Permission.BOOK),
    Route("appointment-status", _appointment_pk, "post", Permission.BOOK),
    Route("appointment-confirm", _appointment_pk, "post", Permission.BOOK),
    Route("appointment-cancel", _appointment_pk, "post", Permission.BOOK),
    Route("appointment-move", _appointment_pk, "get", Permission.BOOK),
    Route("appointment-move", _appointment_pk, "post", Permission.BOOK),
    Route("diary-waitlist", _no_kwargs, "get", Permission.BOOK),
    Route("diary-waitlist", _no_kwargs, "post", Permission.BOOK),
    Route("diary-waitlist-remove", _waitlist_entry, "post", Permission.BOOK),
    Route("diary-requests", _no_kwargs, "get", Permission.BOOK),
    Route("diary-request", _request, "get", Permission.BOOK),
    Route("diary-request-act", _request, "post", Permission.BOOK),
    Route("diary-settings", _no_kwargs, "get", Permission.MANAGE_CLINIC),
    Route("diary-settings", _no_kwargs, "post", Permission.MANAGE_CLINIC),
    # The patient's own answers are clinical: clinicians review and confirm them.
    Route("previsit-review", _previsit, "get", Permission.WRITE_CLINICAL),
    Route("previsit-review", _previsit, "post", Permission.WRITE_CLINICAL),
    Route("previsit-countersign", _signature, "post", Permission.WRITE_CLINICAL),
]


def _photo(journey: Journey) -> Any:
    """A photo record of the journey's patient (with a photo consent), made once per journey.
    Its files are not written: these routes read the record only."""
    from django.utils import timezone

    from needlecare.photos.models import Photo
    from tests.factories import make_photo_consent

    existing = Photo.objects.filter(patient=journey["patient"]).first()
    if existing is not None:
        return existing
    consent = make_photo_consent(journey["patient"], journey["clinician"])
    return Photo.objects.create(
        clinic=journey["clinic"], patient=journey["patient"], session=journey["session"],
        moment="before", view="front", taken_at=timezone.now(), taken_by="clinician",
        uploaded_by=journey["clinician"], consent=consent, scopes=consent.photo_uses,
        received_format="JPEG", content_type="image/jpeg", width=600, height=600,
        size_bytes=1000, sha256="0" * 64, original_name="photos/none/original.jpg",
        thumbnail_name="photos/none/thumbnail.jpg", screen_name="photos/none/screen.jpg",
        screen_width=600, screen_height=600)


def _photo_pk(journey: Journey) -> dict[str, Any]:
    return {"pk": _photo(journey).pk}


def _photo_patient(journey: Journey) -> dict[str, Any]:
    _photo(journey)
    return {"pk": journey["patient"].pk}


PHOTO_ROUTES: list[Route] = [
    # Photos are clinical: the front desk sees none. The pages that read a photo's files
    # (photo-file, photo-aligned, photo-teaching, photo-sheet) are covered with stored files
    # in tests/web/photos.
    Route("patient-photos", _photo_patient, "get", Permission.VIEW_CLINICAL),
    Route("photo-upload", _photo_patient, "post", Permission.WRITE_CLINICAL),
    Route("photo-scope-withdraw", _photo_patient, "post", Permission.WRITE_CLINICAL),
    Route("photo-detail", _photo_pk, "get", Permission.VIEW_CLINICAL),
    Route("photo-eyes", _photo_pk, "get", Permission.WRITE_CLINICAL),
    Route("photo-delete", _photo_pk, "post", Permission.WRITE_CLINICAL),
    Route("photo-compare", _no_kwargs, "get", Permission.VIEW_CLINICAL),
    Route("photo-library", _no_kwargs, "get", Permission.VIEW_CLINICAL),
    Route("photo-settings", _no_kwargs, "get", Permission.MANAGE_CLINIC),
    Route("photo-settings", _no_kwargs, "post", Permission.MANAGE_CLINIC),
]


RIGHTS_ROUTES: list[Route] = [
    # The patient's rights over their record: owners only.
    Route("patient-record-export", _patient, "get", Permission.PATIENT_RIGHTS),
    Route("patient-record-export", _patient, "post", Permission.PATIENT_RIGHTS),
    Route("patient-record-erase", _patient, "get", Permission.PATIENT_RIGHTS),
    Route("patient-record-erase", _patient, "post", Permission.PATIENT_RIGHTS),
]
# Sign-in security and the audit trail (issue 14). Every staff member manages their own
# password and second factors ("any staff": the least permission every role has); owners read
# the audit trail and set the clinic's sign-in rules.
ANY_STAFF = Permission.VIEW_DEMOGRAPHICS

ACCOUNT_ROUTES: list[Route] = [
    Route("account-security", _no_kwargs, "get", ANY_STAFF),
    Route("account-totp", _no_kwargs, "get", ANY_STAFF),
    Route("account-totp", _no_kwargs, "post", ANY_STAFF),
    Route("account-recovery-codes", _no_kwargs, "post", ANY_STAFF),
    Route("password-change", _no_kwargs, "get", ANY_STAFF),
    Route("password-change", _no_kwargs, "post", ANY_STAFF),
    Route("api-tokens", _no_kwargs, "get", ANY_STAFF),
    Route("audit-list", _no_kwargs, "get", Permission.MANAGE_STAFF),
    Route("audit-export", _no_kwargs, "get", Permission.MANAGE_STAFF),
    Route("clinic-security", _no_kwargs, "get", Permission.MANAGE_STAFF),
    Route("clinic-security", _no_kwargs, "post", Permission.MANAGE_STAFF),
    Route("staff-factors-reset", lambda j: {"pk": j["clinician"].pk}, "post",
          Permission.MANAGE_STAFF),
]

#: Pages anyone may open without signing in: the sign-in itself and the forgotten password.
SIGN_IN_PAGES = ["login", "password-reset", "password-reset-sent", "password-reset-done"]


def _referral(journey: Journey) -> dict[str, Any]:
    """The journey's escalation closed with a referral (made once per journey)."""
    from needlecare.access import Actor
    from needlecare.outcomes import referrals
    from needlecare.outcomes.models import Referral

    escalation_id = _escalation(journey)["pk"]
    existing = Referral.objects.filter(escalation_id=escalation_id).first()
    if existing is None:
        existing = referrals.close_with_referral(
            Actor(user=journey["clinician"]), escalation_id, outcome="referred_dermatology",
            note="", details=referrals.ReferralDetails(
                to="dermatologist", reason="suspected_infection",
                summary="Fever on day 1 after microneedling of the cheeks; please assess."))
    return {"pk": existing.pk}


def _treatment_choice(journey: Journey) -> dict[str, Any]:
    """The clinician's recorded choice at the journey's consultation."""
    from needlecare.access import Actor
    from needlecare.outcomes import choice

    chosen = choice.choose_treatment(Actor(user=journey["clinician"]),
                                     journey["consultation"].pk, option="microneedling",
                                     reason="Little downtime suits this patient.")
    return {"pk": chosen.pk}


OUTCOMES_ROUTES: list[Route] = [
    # Outcomes, the choice of treatment, referrals and the clinic's numbers: clinical work
    # (clinicians and owners); which treatments the clinic offers is the owner's setting.
    # (The patient's outcome questions, /p/<token>/outcomes/..., are covered in
    # tests/web/outcomes.)
    Route("outcome-new", _plan, "get", Permission.WRITE_CLINICAL),
    Route("outcome-new", _plan, "post", Permission.WRITE_CLINICAL),
    Route("adverse-event-new", _plan, "get", Permission.WRITE_CLINICAL),
    Route("adverse-event-new", _plan, "post", Permission.WRITE_CLINICAL),
    Route("consultation-alternatives", _consultation, "get", Permission.VIEW_CLINICAL),
    Route("consultation-alternatives-choose", _consultation, "post",
          Permission.WRITE_CLINICAL),
    Route("treatment-choice-copy", _treatment_choice, "get", Permission.VIEW_CLINICAL),
    Route("clinic-offerings", _no_kwargs, "get", Permission.MANAGE_CLINIC),
    Route("clinic-offerings", _no_kwargs, "post", Permission.MANAGE_CLINIC),
    Route("escalation-referral", _escalation, "get", Permission.WRITE_CLINICAL),
    Route("escalation-referral", _escalation, "post", Permission.WRITE_CLINICAL),
    Route("referral-list", _no_kwargs, "get", Permission.VIEW_CLINICAL),
    Route("referral-detail", _referral, "get", Permission.VIEW_CLINICAL),
    Route("referral-outcome", _referral, "post", Permission.WRITE_CLINICAL),
    Route("referral-letter", _referral, "get", Permission.VIEW_CLINICAL),
    Route("numbers", _no_kwargs, "get", Permission.VIEW_CLINICAL),
    Route("numbers-csv", _no_kwargs, "get", Permission.VIEW_CLINICAL),
    Route("numbers-records", _no_kwargs, "get", Permission.VIEW_CLINICAL),
]

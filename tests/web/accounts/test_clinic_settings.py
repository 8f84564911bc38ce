"""The owner's clinic settings: contact details, hours, closures, the out-of-hours service,
the emergency number and the logo, validated with clear messages and audited."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from needlecare.accounts.models import Clinic, ClinicClosure
from needlecare.audit.models import AuditEvent
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db


def _form(clinic: Clinic, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": clinic.name, "phone": clinic.phone, "email": "", "address": "1 High St",
        "country": "GB", "time_zone": "Europe/London", "urgent_callback_hours": 4,
        "emergency_number": "", "out_of_hours_name": "NHS 111",
        "out_of_hours_phone": "111", "link_inactivity_days": 365,
        "hours_0": "09:00–13:00, 14:00–17:30", "hours_1": "09:00-17:30",
        "hours_2": "09:00-17:30", "hours_3": "09:00-19:00", "hours_4": "09:00-17:30",
        "hours_5": "10:00-14:00", "hours_6": ""}
    data.update(changes)
    return data


def _post(owner: Any, data: dict[str, Any]) -> Any:
    return client_for(owner).post(reverse("clinic-settings"), data)


def _image(kind: str, size: tuple[int, int] = (40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(buffer, format=kind)
    return buffer.getvalue()


def test_the_owner_saves_hours_breaks_and_the_out_of_hours_service(journey: dict) -> None:
    response = _post(journey["owner"], _form(journey["clinic"]))
    assert response.status_code == 302
    clinic = Clinic.objects.get(pk=journey["clinic"].pk)
    assert clinic.opening_hours["0"] == [["09:00", "13:00"], ["14:00", "17:30"]]
    assert clinic.opening_hours["5"] == [["10:00", "14:00"]]
    assert "6" not in clinic.opening_hours  # Sunday: closed
    assert (clinic.out_of_hours_name, clinic.out_of_hours_phone) == ("NHS 111", "111")
    assert clinic.emergency_number == "999"  # the United Kingdom's, left empty
    row = AuditEvent.objects.filter(action="clinic.settings").get()
    assert row.detail["changed"]["out_of_hours_name"] == ["", "NHS 111"]


def test_the_emergency_number_defaults_from_the_country(journey: dict) -> None:
    _post(journey["owner"], _form(journey["clinic"], country="FR", time_zone="Europe/Paris"))
    assert Clinic.objects.get(pk=journey["clinic"].pk).emergency_number == "112"
    _post(journey["owner"], _form(journey["clinic"], country="AU",
                                  time_zone="Australia/Sydney"))
    assert Clinic.objects.get(pk=journey["clinic"].pk).emergency_number == "000"
    _post(journey["owner"], _form(journey["clinic"], country="AU", emergency_number="112"))
    assert Clinic.objects.get(pk=journey["clinic"].pk).emergency_number == "112"


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"hours_1": "17:30-09:00"}, "hours_1",
     "17:30–09:00: the closing time is not after the opening time."),
    ({"hours_2": "09:00-13:00, 12:00-17:00"}, "hours_2", "The openings overlap"),
    ({"hours_3": "nine till five"}, "hours_3", "Write each opening as 09:00–13:00"),
    ({"time_zone": "Mars/Olympus"}, "time_zone", "Select a valid choice"),
    ({"phone": ""}, "phone", "This field is required"),
    ({"phone": "call us"}, "phone", "Give the phone number patients call."),
    ({"out_of_hours_phone": ""}, "out_of_hours_phone",
     "Give the out-of-hours service's number."),
    ({"emergency_number": "9-9-9"}, "emergency_number", "2 to 6 digits"),
])
def test_impossible_settings_are_refused_with_a_clear_message(
        journey: dict, changes: dict[str, Any], field: str, message: str) -> None:
    before = Clinic.objects.get(pk=journey["clinic"].pk).opening_hours
    response = _post(journey["owner"], _form(journey["clinic"], **changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors.get(field, []))
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Clinic.objects.get(pk=journey["clinic"].pk).opening_hours == before
    assert not AuditEvent.objects.filter(action="clinic.settings").exists()


@pytest.mark.parametrize("role", ["clinician", "front_desk"])
def test_only_owners_see_or_change_the_settings(journey: dict, role: str) -> None:
    client = client_for(journey[role])
    assert client.get(reverse("clinic-settings")).status_code == 403
    assert client.post(reverse("clinic-settings"), _form(journey["clinic"])).status_code == 403
    assert client.post(reverse("closure-add"), {}).status_code == 403


def test_closures_are_added_listed_and_removed(journey: dict) -> None:
    client = client_for(journey["owner"])
    response = client.post(reverse("closure-add"), {
        "starts_on": "2026-12-25", "ends_on": "2026-12-26", "reason": "Christmas"})
    assert response.status_code == 302
    closure = ClinicClosure.objects.get()
    page = client.get(reverse("clinic-settings")).content.decode()
    assert "Christmas" in page
    refused = client.post(reverse("closure-add"), {
        "starts_on": "2026-12-31", "ends_on": "2026-12-30", "reason": "New year"})
    assert "The closure ends before it starts." in refused.content.decode()
    client.post(reverse("closure-remove", args=[closure.pk]))
    assert not ClinicClosure.objects.exists()
    assert list(AuditEvent.objects.filter(action__startswith="clinic.closure")
                .order_by("id").values_list("action", flat=True)) == ["clinic.closure_add",
                                                       "clinic.closure_remove"]


def test_another_clinics_closure_cannot_be_removed(journey: dict) -> None:
    from tests.factories import journey_to_signed_session

    other = journey_to_signed_session()
    closure = ClinicClosure.objects.create(clinic=other["clinic"], starts_on="2026-12-25",
                                           ends_on="2026-12-25", reason="Christmas")
    response = client_for(journey["owner"]).post(reverse("closure-remove", args=[closure.pk]))
    assert response.status_code == 404
    assert ClinicClosure.objects.filter(pk=closure.pk).exists()


def test_a_png_logo_is_kept_and_served_to_anyone(journey: dict) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    logo = SimpleUploadedFile("logo.png", _image("PNG"), content_type="image/png")
    assert _post(journey["owner"], _form(journey["clinic"], logo=logo)).status_code == 302
    clinic = Clinic.objects.get(pk=journey["clinic"].pk)
    served = Client().get(reverse("clinic-logo", args=[clinic.slug]))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served.content == _image("PNG")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("logo.png", b"GIF89a" + b"\0" * 40, "PNG or JPEG"),
    ("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "PNG or JPEG"),
    ("logo.jpg", None, "at most 1 MB"),
])
def test_a_logo_is_checked_by_its_content_and_size(journey: dict, name: str,
                                                   content: bytes | None,
                                                   message: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    if content is None:  # a JPEG over the size limit
        content = _image("JPEG") + b"\0" * (1024 * 1024)
    logo = SimpleUploadedFile(name, content, content_type="image/png")
    response = _post(journey["owner"], _form(journey["clinic"], logo=logo))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Clinic.objects.get(pk=journey["clinic"].pk).logo


def test_a_new_staff_member_starts_as_front_desk(journey: dict) -> None:
    page = client_for(journey["owner"]).get(reverse("staff-new")).content.decode()
    assert '<option value="front_desk" selected>' in page

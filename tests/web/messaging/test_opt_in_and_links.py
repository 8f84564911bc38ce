"""The patient's agreement to messages is recorded at the desk; personal links are derived
from a stored nonce and the secret key, so a message can carry one without the database
holding it."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from needlecare.access import hash_token
from needlecare.patients.models import Patient
from needlecare.patients.services import PatientDetails, update_patient
from needlecare.recovery import links
from needlecare.recovery.tokens import derive_token, token_for
from tests.web.messaging.support import World, sign

pytestmark = pytest.mark.django_db

FORM = {"given_name": "Robin", "family_name": "Quill", "date_of_birth": "1988-03-02",
        "phone": "07700 900456", "email": "robin@example.test", "preferred_channel": "sms"}


def test_the_desk_records_the_agreement_when_registering_and_editing(world: World) -> None:
    client = world.client(world.front_desk)
    page = client.get(reverse("patient-new")).content.decode()
    assert 'name="messages_opt_in"' in page
    assert "agrees to receive messages" in page
    client.post(reverse("patient-new"), {**FORM, "messages_opt_in": "on"})
    patient = Patient.objects.get(family_name="Quill")
    assert patient.messages_opt_in is True
    edit = client.get(reverse("patient-edit", args=[patient.pk])).content.decode()
    assert 'name="messages_opt_in" id="id_messages_opt_in" checked' in edit
    client.post(reverse("patient-edit", args=[patient.pk]), FORM)  # box unticked
    patient.refresh_from_db()
    assert patient.messages_opt_in is False


def test_a_caller_that_does_not_mention_the_agreement_leaves_it_alone(world: World) -> None:
    patient = world.patient
    details = PatientDetails(given_name=patient.given_name, family_name="Renamed",
                             date_of_birth=patient.date_of_birth, phone=patient.phone,
                             email=patient.email, preferred_channel="email")
    update_patient(world.actor(world.front_desk), patient.pk, details)
    patient.refresh_from_db()
    assert (patient.family_name, patient.messages_opt_in) == ("Renamed", True)


def test_the_patient_page_says_when_the_patient_has_not_agreed(world: World) -> None:
    world.patient.messages_opt_in = False
    world.patient.save()
    page = world.client().get(reverse("patient-detail", args=[world.patient.pk]))
    assert "has not agreed to messages" in page.content.decode()


def test_a_link_s_token_is_derived_from_its_nonce_and_only_its_hash_is_stored(
        world: World, settings: Any) -> None:
    sign(world)
    issued = links.replace_link(world.actor(), world.patient.pk)
    link = issued.link
    token = issued.url.rstrip("/").rsplit("/", 1)[1]
    assert link.nonce
    assert token not in link.nonce
    assert token_for(link) == derive_token(link.nonce) == token
    assert link.token_hash == hash_token(token)
    settings.SECRET_KEY = "a-different-secret-key-" + "y" * 40
    assert derive_token(link.nonce) != token  # rotating the key changes every token

"""The channels on their own: the SMS backends, the webhook's body template, and the email's
Message-ID."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from needlecare.messaging.channels import ChannelError, Outgoing, deliver
from needlecare.messaging.channels.email import message_id
from needlecare.messaging.channels.sms import (
    ConsoleSmsBackend,
    FileSmsBackend,
    Sms,
    WebhookSmsBackend,
    get_backend,
    render_body,
)
from tests.web.messaging.support import WebhookSink

SMS = Sms(to="07700 900123", body='Héllo "there"\nline', dedupe_key="aftercare-plan.s1")


def test_the_file_backend_writes_one_json_file_per_attempt(tmp_path: Path,
                                                            settings: Any) -> None:
    settings.MESSAGING_SMS_FILE_PATH = tmp_path / "sent-sms"
    settings.MESSAGING_SMS_BACKEND = "file"
    deliver(Outgoing("sms", SMS.to, "", SMS.body, SMS.dedupe_key))
    deliver(Outgoing("sms", SMS.to, "", SMS.body, SMS.dedupe_key))
    files = sorted((tmp_path / "sent-sms").glob("*.json"))
    assert len(files) == 2
    document = json.loads(files[0].read_text())
    assert (document["to"], document["body"], document["dedupe_key"]) == (
        SMS.to, SMS.body, SMS.dedupe_key)


def test_the_console_backend_prints_json() -> None:
    stream = io.StringIO()
    ConsoleSmsBackend(stream).send(SMS)
    assert json.loads(stream.getvalue())["sms"]["body"] == SMS.body


def test_the_json_body_template_escapes_what_it_substitutes() -> None:
    body = render_body('{"to": $to, "text": $body, "ref": $reference, "from": $sender}', SMS,
                       "application/json", "Clinic")
    assert json.loads(body) == {"to": SMS.to, "text": SMS.body, "ref": SMS.dedupe_key,
                                "from": "Clinic"}


def test_a_form_encoded_template_for_providers_that_want_forms() -> None:
    body = render_body("To=$to&Body=$body&From=$sender", SMS,
                       "application/x-www-form-urlencoded", "Clinic")
    assert parse_qs(body) == {"To": [SMS.to], "Body": [SMS.body], "From": ["Clinic"]}


def test_a_broken_template_is_a_clear_failure() -> None:
    with pytest.raises(ChannelError, match="SMS_WEBHOOK_BODY"):
        render_body('{"to": $phone}', SMS, "application/json", "Clinic")


def test_a_malformed_auth_header_setting_is_a_clear_failure() -> None:
    with pytest.raises(ChannelError, match="Header-Name: value"):
        WebhookSmsBackend(url="http://127.0.0.1:9/", auth_header="just-a-token").headers(SMS)


def test_the_webhook_sends_the_idempotency_and_auth_headers() -> None:
    with WebhookSink() as sink:
        WebhookSmsBackend(url=sink.url, auth_header="X-Api-Key: k-123",
                          idempotency_header="X-Idempotency-Key").send(SMS)
    [request] = sink.requests
    assert request["headers"]["X-Api-Key"] == "k-123"
    assert request["headers"]["X-Idempotency-Key"] == SMS.dedupe_key
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"])["text"] == SMS.body


def test_backends_are_chosen_by_name_or_dotted_path(settings: Any) -> None:
    settings.MESSAGING_SMS_BACKEND = "needlecare.messaging.channels.sms.ConsoleSmsBackend"
    assert isinstance(get_backend(), ConsoleSmsBackend)
    assert isinstance(get_backend("file"), FileSmsBackend)


def test_the_message_id_carries_the_dedupe_key(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "https://clinic.example.test"
    settings.MESSAGING_MESSAGE_ID_DOMAIN = ""
    assert message_id("checkin-invitation.s4.d3.g0") == (
        "<checkin-invitation.s4.d3.g0@clinic.example.test>")


def test_an_email_backend_that_accepts_nothing_is_a_failure(settings: Any) -> None:
    settings.EMAIL_BACKEND = "tests.web.messaging.support.SilentEmailBackend"
    with pytest.raises(ChannelError, match="did not accept"):
        deliver(Outgoing("email", "a@example.test", "Subject", "Body", "k.1"))

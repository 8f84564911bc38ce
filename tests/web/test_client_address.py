"""The client's address behind a reverse proxy: X-Forwarded-For is believed only from the
trusted proxies (NEEDLECARE_TRUSTED_PROXIES), read from the right, and the first address that
is not a trusted proxy is the client. The audit trail and the sign-in lock (django-axes) use the
same address, so failures from one client do not lock a member out everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from needlecare.access import client_ip
from needlecare.audit.models import AuditEvent
from tests.factories import PASSWORD

PROXY = "10.0.0.5"


def _ip(remote: str, forwarded: str | None = None) -> str | None:
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **headers))


@pytest.fixture
def behind_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8::/32"]


def test_without_trusted_proxies_the_header_is_ignored(settings: Any) -> None:
    settings.TRUSTED_PROXIES = []
    assert _ip(PROXY, "198.51.100.7") == PROXY


def test_from_a_trusted_proxy_the_client_is_the_rightmost_untrusted_address(
        behind_proxy: None) -> None:
    assert _ip(PROXY, "198.51.100.7") == "198.51.100.7"
    # Whatever the client wrote itself stands to the left and is never believed.
    assert _ip(PROXY, "1.2.3.4, 198.51.100.7") == "198.51.100.7"
    # Proxies in a row, all trusted: the first untrusted one from the right is the client.
    assert _ip(PROXY, "1.2.3.4, 198.51.100.7, 10.0.0.9") == "198.51.100.7"


def test_a_connection_not_from_a_trusted_proxy_keeps_its_own_address(
        behind_proxy: None) -> None:
    assert _ip("203.0.113.9", "198.51.100.7") == "203.0.113.9"


def test_addresses_are_normalised(behind_proxy: None) -> None:
    assert _ip(PROXY, "198.51.100.7:51234") == "198.51.100.7"
    assert _ip(PROXY, "[2001:db9::1]:443") == "2001:db9::1"
    assert _ip("::ffff:10.0.0.5", "198.51.100.7") == "198.51.100.7"
    assert _ip(PROXY, "") == PROXY  # nothing forwarded: the proxy itself
    assert _ip(PROXY, "garbage") == PROXY


@pytest.mark.django_db
def test_the_audit_trail_records_the_real_client(behind_proxy: None,
                                                 journey: dict[str, Any]) -> None:
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    client.post(reverse("login"), {"username": journey["clinician"].username,
                                   "password": PASSWORD})
    client.get(reverse("patient-detail", args=[journey["patient"].pk]))
    view = AuditEvent.objects.get(action="patient.view")
    assert view.ip_address == "198.51.100.7"
    assert AuditEvent.objects.get(action="auth.login").ip_address == "198.51.100.7"


def _sign_in(client_address: str, username: str, password: str) -> int:
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)
    return client.post(reverse("login"), {"username": username, "password": password}) \
        .status_code


@pytest.mark.django_db
def test_another_clients_failures_do_not_lock_the_member_out(behind_proxy: None,
                                                             journey: dict[str, Any]) -> None:
    username = journey["clinician"].username
    for _attempt in range(6):
        _sign_in("203.0.113.66", username, "wrong-password")
    # The attacker's client is locked out, even with the right password…
    assert _sign_in("203.0.113.66", username, PASSWORD) == 429
    # …but the member, behind the same proxy from their own computer, signs in.
    assert _sign_in("198.51.100.7", username, PASSWORD) == 302
    locked = AuditEvent.objects.filter(action="auth.locked_out")
    assert locked.exists()
    assert {e.ip_address for e in locked} == {"203.0.113.66"}

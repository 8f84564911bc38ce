"""The S3 endpoint the object-storage tests share: one SeaweedFS on loopback per test run,
started on first use (tests/seaweedfs.py), whichever folder's tests ask for it first."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.seaweedfs import SeaweedFS, create_bucket


@dataclass(frozen=True)
class S3Endpoint:
    endpoint_url: str
    region: str
    access_key: str
    secret_key: str
    bucket: str
    environment: dict[str, str]


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    with SeaweedFS() as server:
        yield server


@pytest.fixture(scope="session")
def s3_endpoint(seaweedfs: SeaweedFS) -> S3Endpoint:
    """An S3 endpoint, a fresh bucket and real credentials."""
    bucket = "needlecare-" + secrets.token_hex(4)
    create_bucket(seaweedfs, bucket)
    return S3Endpoint(seaweedfs.endpoint_url, seaweedfs.region, seaweedfs.access_key,
                      seaweedfs.secret_key, bucket, seaweedfs.environment(bucket))


def use_s3(endpoint: S3Endpoint, settings: Any, monkeypatch: pytest.MonkeyPatch,
           prefix: str) -> dict[str, Any]:
    """Point Django's default storage at the endpoint, configured from the environment as a
    deployment would be, under ``prefix``, with server-side encryption."""
    from needlecare import settings as needlecare_settings

    for name, value in endpoint.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NEEDLECARE_S3_PREFIX", prefix)
    monkeypatch.setenv("NEEDLECARE_S3_SSE", "AES256")
    storage = needlecare_settings._s3_storage()
    assert storage is not None
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    return storage

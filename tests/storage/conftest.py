"""A real S3-compatible server (SeaweedFS on loopback) for the object-storage tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

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

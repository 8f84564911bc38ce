"""The photo files' path through Django's storage API to an S3-compatible store, tested
against a real SeaweedFS with real credentials (never a mock)."""

from __future__ import annotations

from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

from needlecare import settings as needlecare_settings
from needlecare.imaging.derivatives import make_derivatives
from needlecare.imaging.intake import accept_image
from tests.imaging import synthetic
from tests.s3 import S3Endpoint, use_s3


@pytest.fixture
def s3_settings(s3_endpoint: S3Endpoint, settings: Any,
                monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Django's default storage configured from the environment, as a deployment would be."""
    return use_s3(s3_endpoint, settings, monkeypatch, "clinic-a")


def _client(endpoint: S3Endpoint, secret: str | None = None) -> Any:
    return boto3.client("s3", endpoint_url=endpoint.endpoint_url, region_name=endpoint.region,
                        aws_access_key_id=endpoint.access_key,
                        aws_secret_access_key=secret or endpoint.secret_key)


def test_without_a_bucket_files_stay_on_the_local_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEEDLECARE_S3_BUCKET", raising=False)
    assert needlecare_settings._s3_storage() is None


def test_an_unknown_encryption_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("NEEDLECARE_S3_BUCKET", "photos")
    monkeypatch.setenv("NEEDLECARE_S3_SSE", "rot13")
    with pytest.raises(ImproperlyConfigured, match="NEEDLECARE_S3_SSE"):
        needlecare_settings._s3_storage()


def test_store_read_list_and_delete_through_the_default_storage(
        s3_settings: dict[str, Any], s3_endpoint: S3Endpoint) -> None:
    assert type(storages["default"]).__name__ == "S3Storage"
    storage = default_storage  # what the photo app will use
    name = storage.save("photos/p1/original.jpg", ContentFile(b"\xff\xd8first\xff\xd9"))
    assert name == "photos/p1/original.jpg"
    # Never overwritten: a second file of the same name gets a name of its own.
    second = storage.save("photos/p1/original.jpg", ContentFile(b"second"))
    assert second != name
    assert second.startswith("photos/p1/original")
    with storage.open(name) as handle:
        assert handle.read() == b"\xff\xd8first\xff\xd9"
    assert storage.exists(name)
    assert storage.size(name) == 9
    directories, files = storage.listdir("photos/p1")
    assert sorted(files) == sorted([name.rsplit("/", 1)[1], second.rsplit("/", 1)[1]])
    assert directories == []
    # The objects are really in the bucket, under the configured prefix.
    client = _client(s3_endpoint)
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=s3_endpoint.bucket,
                                                     Prefix="clinic-a/")["Contents"]}
    assert f"clinic-a/{name}" in keys
    storage.delete(name)
    storage.delete(second)
    assert not storage.exists(name)
    assert storage.listdir("photos/p1") == ([], [])


def test_objects_are_stored_with_server_side_encryption_requested(
        s3_settings: dict[str, Any], s3_endpoint: S3Endpoint) -> None:
    assert s3_settings["OPTIONS"]["object_parameters"] == {"ServerSideEncryption": "AES256"}
    storage = storages["default"]
    name = storage.save("photos/p2/original.jpg", ContentFile(b"encrypted at rest"))
    head = _client(s3_endpoint).head_object(Bucket=s3_endpoint.bucket, Key=f"clinic-a/{name}")
    assert head.get("ServerSideEncryption") == "AES256"
    with storage.open(name) as handle:
        assert handle.read() == b"encrypted at rest"
    storage.delete(name)


def test_a_photo_and_its_derivatives_round_trip_and_are_removed(
        s3_settings: dict[str, Any]) -> None:
    storage = storages["default"]
    photo = synthetic.portrait()[::2, ::2]
    accepted = accept_image(synthetic.encode(np.ascontiguousarray(photo)))
    names = [storage.save(f"photos/p3/original.{accepted.extension}",
                          ContentFile(accepted.data))]
    for copy in make_derivatives(accepted.data):
        names.append(storage.save(f"photos/p3/{copy.name}.jpg", ContentFile(copy.data)))
    with storage.open(names[0]) as handle:
        assert handle.read() == accepted.data
    for name in names:
        storage.delete(name)
    assert storage.listdir("photos/p3") == ([], [])


def test_wrong_credentials_are_refused(s3_endpoint: S3Endpoint) -> None:
    with pytest.raises(ClientError):
        _client(s3_endpoint, secret="not-the-secret").list_objects_v2(Bucket=s3_endpoint.bucket)

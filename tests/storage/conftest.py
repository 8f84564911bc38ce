"""A real S3-compatible server (SeaweedFS on loopback) for the object-storage tests: the
fixtures live in tests/s3.py, shared with the photo tests (tests/conftest.py loads them)."""

from tests.s3 import S3Endpoint

__all__ = ["S3Endpoint"]

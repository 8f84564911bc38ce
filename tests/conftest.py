"""Suite-wide settings.

Hypothesis runs without a per-example deadline: CI is a loaded 2-core machine, and timing
belongs in benchmarks/, not in tests.
"""

from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# One SeaweedFS for the whole run, for every folder whose tests use object storage.
from tests.s3 import s3_endpoint, seaweedfs

__all__ = ["s3_endpoint", "seaweedfs"]

hypothesis_settings.register_profile("needlecare", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("needlecare")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Argon2 at production strength takes ~0.4 s a password on CI, and every journey makes
    # several users. The tests about hashing itself restore the real hashers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

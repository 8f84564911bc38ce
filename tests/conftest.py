"""Suite-wide settings.

Hypothesis runs without a per-example deadline: CI is a loaded 2-core machine, and timing
belongs in benchmarks/, not in tests.
"""

from hypothesis import HealthCheck, settings

settings.register_profile("needlecare", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("needlecare")

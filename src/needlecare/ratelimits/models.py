from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """The hits on one key in one fixed window of a scope (``ratelimits.counting``). A row is
    of no use once its window has ended: the worker deletes it then."""

    #: What is limited: "public_request", "subscribe-per-ip", …
    scope = models.CharField(max_length=60)
    #: A keyed hash (HMAC-SHA-256) of what is counted, never the address or email itself.
    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key", "window_start"],
                                               name="one_rate_counter_per_window")]
        indexes = [models.Index(fields=["window_end"], name="rate_counter_window_end")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key[:8]}… {self.window_start:%Y-%m-%d %H:%M}: {self.hits}"

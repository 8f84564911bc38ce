"""The product's one rate counter (needlecare.ratelimits): hits per key per fixed window, in
the database, so that every process counts the same and together never passes the limit."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from django.db import connection, transaction

from needlecare.messaging import worker
from needlecare.ratelimits import counting
from needlecare.ratelimits.counting import RateLimited, hit
from needlecare.ratelimits.models import RateCounter
from tests.web.sqlite_file import sqlite_on_disk

HOUR = dt.timedelta(hours=1)
AT_10_15 = dt.datetime(2026, 3, 2, 10, 15, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_two_keys_are_counted_apart() -> None:
    for _ in range(2):
        hit("test", "203.0.113.5", limit=2, window=HOUR, now=AT_10_15)
    with pytest.raises(RateLimited) as refused:
        hit("test", "203.0.113.5", limit=2, window=HOUR, now=AT_10_15)
    assert refused.value.code == "rate_limited"
    assert refused.value.retry_after == 45 * 60  # the window ends at 11:00
    for _ in range(2):  # another address, and the same one in another scope, count on their own
        hit("test", "203.0.113.6", limit=2, window=HOUR, now=AT_10_15)
        hit("other", "203.0.113.5", limit=2, window=HOUR, now=AT_10_15)
    # The refused hit was not counted.
    assert sorted(RateCounter.objects.values_list("hits", flat=True)) == [2, 2, 2]


@pytest.mark.django_db
def test_a_new_window_starts_from_zero() -> None:
    hit("test", "a", limit=1, window=HOUR, now=AT_10_15)
    with pytest.raises(RateLimited):
        hit("test", "a", limit=1, window=HOUR, now=AT_10_15.replace(minute=59, second=59))
    hit("test", "a", limit=1, window=HOUR, now=AT_10_15.replace(hour=11, minute=0))
    with pytest.raises(RateLimited):
        hit("test", "a", limit=1, window=HOUR, now=AT_10_15.replace(hour=11, minute=30))


@pytest.mark.django_db
def test_a_refusal_carries_the_callers_code_and_message() -> None:
    with pytest.raises(RateLimited) as refused:
        hit("test", "a", limit=0, window=HOUR, now=AT_10_15, code="too_many_requests",
            message="Call us instead.")
    assert (refused.value.code, refused.value.message) == ("too_many_requests",
                                                           "Call us instead.")
    assert not RateCounter.objects.exists()


@pytest.mark.django_db
def test_hits_refused_later_in_the_callers_transaction_are_not_counted() -> None:
    def request_that_fails() -> None:
        with transaction.atomic():
            hit("test", "a", limit=1, window=HOUR, now=AT_10_15)
            raise RuntimeError("the caller's work failed")

    with pytest.raises(RuntimeError):
        request_that_fails()
    hit("test", "a", limit=1, window=HOUR, now=AT_10_15)  # the one allowed hit is still there


@pytest.mark.django_db
def test_the_counter_keeps_a_keyed_hash_never_the_address() -> None:
    hit("test", "203.0.113.5", limit=5, window=HOUR, now=AT_10_15)
    hit("test", "someone@example.test", limit=5, window=HOUR, now=AT_10_15)
    keys = list(RateCounter.objects.values_list("key", flat=True))
    assert len(keys) == 2
    assert all(len(key) == 64 and "203.0.113" not in key and "example" not in key
               for key in keys)
    assert counting.digest("203.0.113.5") in keys


@pytest.mark.django_db
def test_the_worker_deletes_counters_once_their_window_has_ended() -> None:
    day = dt.timedelta(days=1)
    hit("hourly", "a", limit=5, window=HOUR, now=AT_10_15 - HOUR)  # ended at 10:00
    hit("hourly", "a", limit=5, window=HOUR, now=AT_10_15)
    hit("daily", "a", limit=5, window=day, now=AT_10_15 - HOUR)  # runs until midnight
    assert counting.forget_expired(now=AT_10_15) == 1
    assert set(RateCounter.objects.values_list("scope", "window_start")) == {
        ("hourly", AT_10_15.replace(minute=0)),
        ("daily", AT_10_15.replace(hour=0, minute=0))}
    # The worker's upkeep does it on the real clock: every window here has ended by now.
    worker.do_upkeep()
    assert not RateCounter.objects.exists()


@pytest.mark.django_db
def test_the_purge_goes_in_bounded_batches() -> None:
    for n in range(5):
        hit("test", str(n), limit=1, window=HOUR, now=AT_10_15)
    later = AT_10_15 + dt.timedelta(days=1)
    assert counting.forget_expired(now=later, batch=2, max_batches=2) == 4
    assert counting.forget_expired(now=later, batch=2, max_batches=None) == 1


def _hit_together(scope: str, *, threads: int, hits: int, limit: int
                  ) -> tuple[int, int, list[BaseException]]:
    """``threads`` connections hit one key ``hits`` times each, starting at the same moment;
    returns (passed, refused, unexpected errors)."""
    barrier = threading.Barrier(threads)
    lock = threading.Lock()
    outcome = {"passed": 0, "refused": 0}
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(hits):
                try:
                    hit(scope, "203.0.113.5", limit=limit, window=HOUR, now=AT_10_15)
                    counted = "passed"
                except RateLimited:
                    counted = "refused"
                with lock:
                    outcome[counted] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=120)
    return outcome["passed"], outcome["refused"], errors


@pytest.mark.django_db(transaction=True)
def test_simultaneous_hits_are_all_counted_and_never_pass_the_limit_together(
        tmp_path: Path) -> None:
    """On a real SQLite file (writers take turns) or on PostgreSQL (they race): the window's
    first hits race to create its row, and every hit is counted all the same; near the limit,
    exactly the limit's worth pass."""
    with sqlite_on_disk(tmp_path):
        passed, refused, errors = _hit_together("all", threads=4, hits=10, limit=1000)
        assert not errors, errors
        assert (passed, refused) == (40, 0)
        assert RateCounter.objects.get(scope="all").hits == 40

        passed, refused, errors = _hit_together("capped", threads=4, hits=5, limit=7)
        assert not errors, errors
        assert (passed, refused) == (7, 13)
        assert RateCounter.objects.get(scope="capped").hits == 7

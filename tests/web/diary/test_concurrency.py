"""Two people book the same slot at the same moment: exactly one gets it, the other is told
the time was taken (409 ``slot_taken``). On SQLite (a real file with the production
settings) the second writer waits for the first and then sees its row; on PostgreSQL both
may pass the check, and the exclusion constraint refuses the second insert."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import time_machine
from django.db import connection

from needlecare.diary.models import Appointment
from needlecare.diary.services import BookingRefused
from needlecare.errors import ErrorKind
from tests.factories import make_patient
from tests.web.diary.support import london, make_diary
from tests.web.sqlite_file import sqlite_on_disk


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_bookings_of_one_slot_one_wins(tmp_path: Path) -> None:
    with sqlite_on_disk(tmp_path), time_machine.travel(london(2026, 3, 2, 8, 0), tick=False):
        diary = make_diary()
        other = make_patient(diary.clinic, diary.jo, given_name="Robin")
        patients = [diary.patient, other]
        barrier = threading.Barrier(len(patients))
        won: list[Appointment] = []
        refused: list[BookingRefused] = []
        errors: list[BaseException] = []

        def run(patient: object) -> None:
            try:
                barrier.wait(timeout=10)
                won.append(diary.book(london(2026, 3, 4, 10, 0), patient=patient))
            except BookingRefused as exc:
                refused.append(exc)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(p,)) for p in patients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert len(won) == 1
        assert len(refused) == 1
        assert refused[0].code == "slot_taken"
        assert refused[0].kind == ErrorKind.CONFLICT
        assert Appointment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_database_itself_refuses_an_overlap_on_postgresql(tmp_path: Path) -> None:
    """Past the service (a bug, a script): PostgreSQL's constraint still holds."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no exclusion constraints; the service's check stands alone")
    from django.db import IntegrityError

    with time_machine.travel(london(2026, 3, 2, 8, 0), tick=False):
        diary = make_diary()
        first = diary.book(london(2026, 3, 4, 10, 0))
        copy = Appointment.objects.get(pk=first.pk)
        copy.pk = None
        copy.room = diary.room_b
        with pytest.raises(IntegrityError):
            copy.save()

"""A photo's files in Django's default storage (``var/media`` by default, an S3-compatible store
when configured: docs/operations.md).

Names say nothing about the patient (a random folder per photo under the clinic and the patient
ids), objects are private, and nothing is ever served by URL: the views read the bytes through
the access layer. Files are written before the row that names them and removed after the row is
gone, so a row never names a missing file; a crash in between can leave an unnamed file, never
a named missing one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from needlecare.imaging.upload import ProcessedUpload

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredFiles:
    original: str
    thumbnail: str
    screen: str
    screen_size: tuple[int, int]

    @property
    def names(self) -> list[str]:
        return [self.original, self.thumbnail, self.screen]


def store(clinic_id: int, patient_id: int, processed: ProcessedUpload) -> StoredFiles:
    """Write the original and its derivatives; on any failure, remove what was written."""
    folder = f"photos/{clinic_id}/{patient_id}/{uuid.uuid4().hex}"
    accepted = processed.accepted
    copies = {d.name: d for d in processed.derivatives}
    written: list[str] = []
    try:
        written.append(default_storage.save(f"{folder}/original.{accepted.extension}",
                                            ContentFile(accepted.data)))
        for name in ("thumbnail", "screen"):
            written.append(default_storage.save(f"{folder}/{name}.jpg",
                                                ContentFile(copies[name].data)))
    except Exception:
        remove(written)
        raise
    screen = copies["screen"]
    return StoredFiles(written[0], written[1], written[2], (screen.width, screen.height))


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        data: bytes = handle.read()
    return data


def remove(names: Iterable[str]) -> None:
    """Delete files; a file already gone is not an error (deleting twice is harmless)."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # a store that is down: log it, the names are in the audit row
            logger.exception("could not delete photo file %s", name)

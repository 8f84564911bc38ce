"""Sealing the audit trail into one hash chain per clinic, and checking it.

Rows are written unsealed, inside the transactions that do the work, so that audited requests
never wait on each other for the chain. The worker (``needlecare worker``) calls
``seal_pending`` every few seconds: it takes the oldest unsealed rows in id order and, for each
clinic, under the row lock of that clinic's ``AuditChain``, gives every row the next number
(``seq``), the previous sealed row's hash (``prev_hash``) and its own ``hash``: SHA-256 over
the previous hash and the row's content. The new head of each chain is logged (logger
``needlecare.audit``), so a copy of the log shows how far each chain reached.

``verify`` walks every chain in order and reports the first row that does not fit: content
edited (its hash no longer matches), a row deleted (a gap in the numbers), rows moved or
swapped (numbers or previous hashes out of order), or rows cut from the end (the chain stops
short of its recorded head). What it cannot see is a row deleted before it was sealed, which
is why sealing runs every few seconds and ``verify`` reports how old the oldest unsealed
row is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from needlecare import clock
from needlecare.audit.models import AuditChain, AuditEvent

logger = logging.getLogger("needlecare.audit")

#: The previous hash of a chain's first row.
GENESIS = "0" * 64
#: The columns the hash covers, in this order. Adding one is a new chain format: old rows
#: would no longer verify.
CONTENT = ("id", "clinic_id", "at", "actor_id", "actor_kind", "actor_role", "action",
           "object_type", "object_id", "patient_id", "ip_address", "detail")
DEFAULT_BATCH = 2000


def chain_key(clinic_id: int | None) -> str:
    return f"clinic:{clinic_id}" if clinic_id else "no-clinic"


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def row_hash(row: Mapping[str, Any], seq: int, prev_hash: str) -> str:
    """The hash of one row at place ``seq`` after ``prev_hash`` (values as the database
    returns them, so sealing and checking read them the same way)."""
    content = {name: _canonical(row[name]) for name in CONTENT}
    content["seq"] = seq
    content["prev_hash"] = prev_hash
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Sealed:
    chain: str
    rows: int
    head_seq: int
    head_hash: str


def _locked_chain(clinic_id: int | None) -> AuditChain:
    key = chain_key(clinic_id)
    AuditChain.objects.get_or_create(key=key, defaults={"clinic_id": clinic_id})
    return AuditChain.objects.select_for_update().get(key=key)


def _seal_chain(clinic_id: int | None, ids: Iterable[int]) -> Sealed | None:
    chain = _locked_chain(clinic_id)
    # Read again under the chain's lock: another sealer may have taken these rows meanwhile.
    rows = list(AuditEvent.objects.filter(pk__in=list(ids), seq__isnull=True)
                .order_by("id").values(*CONTENT))
    if not rows:
        return None
    seq, prev = chain.last_seq, chain.last_hash or GENESIS
    for row in rows:
        seq += 1
        digest = row_hash(row, seq, prev)
        AuditEvent.objects.filter(pk=row["id"], seq__isnull=True).update(
            seq=seq, prev_hash=prev, hash=digest)
        prev = digest
    AuditChain.objects.filter(pk=chain.pk).update(last_seq=seq, last_hash=prev,
                                                  sealed_at=clock.now())
    return Sealed(chain=chain.key, rows=len(rows), head_seq=seq, head_hash=prev)


def seal_pending(batch: int = DEFAULT_BATCH) -> list[Sealed]:
    """Seal up to ``batch`` of the oldest unsealed rows; returns what each chain gained."""
    pending = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")
                   .values_list("id", "clinic_id")[:batch])
    if not pending:
        return []
    by_clinic: dict[int | None, list[int]] = defaultdict(list)
    for pk, clinic_id in pending:
        by_clinic[clinic_id].append(pk)
    sealed: list[Sealed] = []
    # Chains in a fixed order, so two sealers never wait on each other's locks in a circle.
    for clinic_id in sorted(by_clinic, key=lambda c: (c is not None, c or 0)):
        with transaction.atomic():
            done = _seal_chain(clinic_id, by_clinic[clinic_id])
        if done is not None:
            sealed.append(done)
            logger.info("audit chain %s sealed %d row(s); head #%d %s", done.chain,
                        done.rows, done.head_seq, done.head_hash)
    return sealed


def seal_all() -> int:
    """Seal every unsealed row (the command line, tests); returns how many."""
    total = 0
    while sealed := seal_pending():
        total += sum(s.rows for s in sealed)
    return total


# --- checking ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Break:
    chain: str
    seq: int | None
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"row #{self.seq} (id {self.event_id})" if self.seq is not None else "the head"
        return f"{self.chain}: {where}: {self.problem}"


@dataclass(frozen=True)
class Report:
    chains: int
    sealed: int
    unsealed: int
    oldest_unsealed_at: dt.datetime | None
    broken: Break | None

    def oldest_unsealed_age(self, now: dt.datetime | None = None) -> dt.timedelta | None:
        if self.oldest_unsealed_at is None:
            return None
        return (now or clock.now()) - self.oldest_unsealed_at


def _check_chain(clinic_id: int | None, head: AuditChain | None) -> tuple[int, Break | None]:
    key = chain_key(clinic_id)
    expected_seq, prev = 1, GENESIS
    rows = (AuditEvent.objects.filter(clinic_id=clinic_id, seq__isnull=False).order_by("seq", "id")
            .values(*CONTENT, "seq", "prev_hash", "hash").iterator(chunk_size=2000))
    for row in rows:
        seq, pk = row["seq"], row["id"]
        if seq < expected_seq:
            return expected_seq - 1, Break(key, seq, pk, "this number appears twice in the chain "
                                           "(a row copied or renumbered)")
        if seq > expected_seq:
            missing = (f"#{expected_seq}" if seq == expected_seq + 1
                       else f"#{expected_seq} to #{seq - 1}")
            return expected_seq - 1, Break(key, seq, pk, f"row(s) {missing} before it are "
                                           "missing (deleted)")
        if row["prev_hash"] != prev:
            return seq - 1, Break(key, seq, pk, "it does not follow the row before it "
                                  "(rows moved, swapped or replaced)")
        if row_hash(row, seq, prev) != row["hash"]:
            return seq - 1, Break(key, seq, pk, "its content no longer matches its hash "
                                  "(edited after sealing)")
        prev = row["hash"]
        expected_seq += 1
    last = expected_seq - 1
    if head is None:
        if last:
            return last, Break(key, None, None, "sealed rows exist but the chain's head is "
                               "missing")
        return 0, None
    if head.last_seq != last or (head.last_hash or GENESIS) != prev:
        return last, Break(key, None, None, f"the chain ends at #{last} but its head records "
                           f"#{head.last_seq} (rows removed from the end, or the head edited)")
    return last, None


def verify() -> Report:
    """Check every chain; the first break found, with counts of sealed and unsealed rows."""
    heads = {chain.key: chain for chain in AuditChain.objects.all()}
    clinics: set[int | None] = {chain.clinic_id for chain in heads.values()}
    clinics |= set(AuditEvent.objects.filter(seq__isnull=False).order_by()
                   .values_list("clinic_id", flat=True).distinct())
    sealed, broken = 0, None
    for clinic_id in sorted(clinics, key=lambda c: (c is not None, c or 0)):
        count, problem = _check_chain(clinic_id, heads.get(chain_key(clinic_id)))
        sealed += count
        if problem is not None and broken is None:
            broken = problem
    unsealed = AuditEvent.objects.filter(seq__isnull=True)
    oldest = unsealed.order_by("at").values_list("at", flat=True).first()
    return Report(chains=len(clinics), sealed=sealed, unsealed=unsealed.count(),
                  oldest_unsealed_at=oldest, broken=broken)

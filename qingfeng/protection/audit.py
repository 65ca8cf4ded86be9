"""The hash-chained audit log: append, canonical form, verification.

Each entry's hash is SHA-256 over a canonical JSON of (sequence, time, actor, action, object,
case number, office, detail with sorted keys, previous hash). Appends lock the single chain-head
row (`select_for_update`), so concurrent writers queue and the chain never forks; inside a
registration they do so as the transaction's last statement (`append(last=True)`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.db.models.sql import InsertQuery
from django.utils import timezone

from qingfeng.core import lastwrites
from qingfeng.protection.models import AuditChainHead, AuditEntry

GENESIS = "0" * 64


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry: AuditEntry) -> bytes:
    payload = [
        entry.sequence,
        _time(entry.created_at),
        entry.actor_id,
        entry.actor_name,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.case_number,
        entry.office_id,
        entry.detail,
        entry.prev_hash,
    ]
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def _normalise(detail: dict[str, Any]) -> dict[str, Any]:
    # What the JSON column will give back: the hash must be computable from the stored row.
    result: dict[str, Any] = json.loads(json.dumps(detail, default=str))
    return result


# Inside `lastwrites.hot_rows_last()` entries are chained as the very last writes of the
# transaction: the head row is shared by every audited write, and its lock lasts until commit.
AUDIT_ORDER = 20  # after the count tables, the other rows every registration shares


def append(
    *,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    case_number: str,
    office_id: int | None,
    detail: dict[str, Any],
    last: bool = False,
) -> AuditEntry:
    """Chain and write one entry now, or with `last` inside `hot_rows_last()`, as the transaction's
    last write (outside such a block `last` changes nothing)."""
    entry = AuditEntry(
        actor_id=actor_id,
        actor_name=actor_name[:150],
        action=action[:64],
        object_type=object_type[:64],
        object_id=str(object_id)[:64],
        case_number=case_number[:40],
        office_id=office_id,
        detail=_normalise(detail),
    )
    pending = lastwrites.slot("protection.audit", order=AUDIT_ORDER, factory=list, write=link) if last else None
    if pending is None:
        link([entry])
    else:
        pending.append(entry)
    return entry


def _lock_head() -> tuple[int, str]:
    head = connection.ops.quote_name(AuditChainHead._meta.db_table)
    # SQLite has no row locks: its one writer at a time does the same.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sequence, last_hash FROM {head} WHERE id = 1{lock}")
        row = cursor.fetchone()
        if row is None:  # the first entry ever
            AuditChainHead.objects.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
            cursor.execute(f"SELECT sequence, last_hash FROM {head} WHERE id = 1{lock}")
            row = cursor.fetchone()
    return int(row[0]), row[1] or GENESIS


def link(entries: list[AuditEntry]) -> None:
    """Give unsaved entries the next sequence numbers and hashes, and write them with the new head.

    The head row is locked (`select_for_update`) until the transaction ends, so concurrent
    writers queue and the chain never forks; the time is taken under the lock, so sequence
    order is time order.
    """
    if not entries:
        return
    with transaction.atomic(savepoint=False):
        sequence, prev = _lock_head()
        now = timezone.now()
        for entry in entries:
            sequence += 1
            entry.sequence, entry.created_at, entry.prev_hash = sequence, now, prev
            entry.entry_hash = prev = entry_hash(entry)
        if connection.vendor != "postgresql":
            AuditEntry.objects.bulk_create(entries)
            AuditChainHead.objects.filter(pk=1).update(sequence=sequence, last_hash=prev)
            return
        # One round trip for the entries and the head: the head stays locked until commit.
        fields = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]
        query = InsertQuery(AuditEntry)
        rows: list[Model] = list(entries)
        query.insert_values(fields, rows)
        ((insert_sql, params),) = query.get_compiler(connection=connection).as_sql()
        head = connection.ops.quote_name(AuditChainHead._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH e AS ({insert_sql} RETURNING id), "
                f"h AS (UPDATE {head} SET sequence = %s, last_hash = %s WHERE id = 1) "
                "SELECT id FROM e ORDER BY id",
                [*params, sequence, prev],
            )
            ids = [r[0] for r in cursor.fetchall()]
        # Row ids come from one sequence in VALUES order, so sorted ids match the entries' order.
        for entry, pk in zip(entries, ids, strict=True):
            entry.pk = pk
            entry._state.adding = False
            entry._state.db = connection.alias


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    message: str


def verify(batch_size: int = 2000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in sequence order; returns (entries checked, first problem or None)."""
    expected_seq = 1
    prev = GENESIS
    checked = 0
    last_seq = 0
    while True:
        rows = list(AuditEntry.objects.filter(sequence__gte=expected_seq).order_by("sequence")[:batch_size])
        if not rows:
            break
        for row in rows:
            if row.sequence != expected_seq:
                return checked, ChainProblem(
                    expected_seq, f"sequence gap: entry {expected_seq} is missing (next is {row.sequence})"
                )
            if row.prev_hash != prev:
                return checked, ChainProblem(row.sequence, "prev_hash does not match the previous entry (reordered)")
            if entry_hash(row) != row.entry_hash:
                return checked, ChainProblem(row.sequence, "entry_hash does not match its content (edited)")
            prev = row.entry_hash
            last_seq = row.sequence
            expected_seq += 1
            checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.sequence != last_seq:
        return checked, ChainProblem(
            last_seq + 1, f"the chain head says {head.sequence} entries but the log ends at {last_seq} (deleted)"
        )
    if head is not None and head.sequence and head.last_hash != prev:
        return checked, ChainProblem(last_seq, "the last entry's hash differs from the chain head (edited)")
    return checked, None

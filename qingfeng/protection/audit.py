"""The hash-chained audit log: append, canonical form, verification.

Each entry's hash is SHA-256 over a canonical JSON of (sequence, time, actor, action, object,
case number, office, detail with sorted keys, previous hash). Appends lock the single chain-head
row (`select_for_update`), so concurrent writers queue and the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

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
) -> AuditEntry:
    with transaction.atomic():
        head, _ = AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        entry = AuditEntry(
            sequence=head.sequence + 1,
            created_at=timezone.now(),
            actor_id=actor_id,
            actor_name=actor_name[:150],
            action=action[:64],
            object_type=object_type[:64],
            object_id=str(object_id)[:64],
            case_number=case_number[:40],
            office_id=office_id,
            detail=_normalise(detail),
            prev_hash=head.last_hash or GENESIS,
        )
        entry.entry_hash = entry_hash(entry)
        entry.save()
        AuditChainHead.objects.filter(pk=1).update(sequence=entry.sequence, last_hash=entry.entry_hash)
    return entry


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

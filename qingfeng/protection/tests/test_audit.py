"""The audit log is append-only and hash-chained; verify_audit finds edits, deletions and reordering."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from qingfeng.accounts.models import Role
from qingfeng.protection.audit import verify
from qingfeng.protection.models import AuditEntry
from qingfeng.protection.services import audit_record


def _fill(n: int = 5) -> list[AuditEntry]:
    return [
        audit_record(actor=None, action="test", object_type="case", object_id=f"C-{i}", office=None, detail={"i": i})
        for i in range(n)
    ]


def _raw(sql: str, params: list[Any]) -> None:
    """Tamper like an attacker with database access: straight SQL, trigger disabled on PostgreSQL."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE protection_auditentry DISABLE TRIGGER protection_auditentry_append_only")
        cur.execute(sql, params)
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE protection_auditentry ENABLE TRIGGER protection_auditentry_append_only")


def test_entries_chain_each_hash_to_the_previous_one(db: Any) -> None:
    entries = _fill(3)
    assert [e.sequence for e in entries] == [entries[0].sequence + i for i in range(3)]
    assert entries[1].prev_hash == entries[0].entry_hash and entries[2].prev_hash == entries[1].entry_hash
    assert verify() == (len(AuditEntry.objects.all()), None)
    call_command("verify_audit")


def test_the_orm_refuses_to_change_or_delete_an_entry(db: Any) -> None:
    entry = _fill(1)[0]
    entry.action = "other"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


@pytest.mark.postgres
def test_the_database_trigger_refuses_update_and_delete(db: Any) -> None:
    entry = _fill(1)[0]
    for sql in (
        "UPDATE protection_auditentry SET action = 'x' WHERE id = %s",
        "DELETE FROM protection_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [entry.pk])


def test_verify_audit_reports_an_edited_entry(db: Any) -> None:
    entries = _fill()
    _raw("UPDATE protection_auditentry SET object_id = 'C-forged' WHERE id = %s", [entries[2].pk])
    assert verify()[1].sequence == entries[2].sequence  # type: ignore[union-attr]
    with pytest.raises(CommandError, match=f"entry {entries[2].sequence}: entry_hash"):
        call_command("verify_audit")


def test_verify_audit_reports_a_deleted_entry_as_a_gap(db: Any) -> None:
    entries = _fill()
    _raw("DELETE FROM protection_auditentry WHERE id = %s", [entries[1].pk])
    with pytest.raises(CommandError, match="sequence gap"):
        call_command("verify_audit")


def test_verify_audit_reports_a_deleted_last_entry(db: Any) -> None:
    entries = _fill()
    _raw("DELETE FROM protection_auditentry WHERE id = %s", [entries[-1].pk])
    with pytest.raises(CommandError, match="deleted"):
        call_command("verify_audit")


def test_verify_audit_reports_reordered_entries(db: Any) -> None:
    a, b = _fill(2)
    # Swap the two rows' content: each row keeps a valid-looking hash, but the chain no longer links.
    _raw("UPDATE protection_auditentry SET sequence = 999999999 WHERE id = %s", [a.pk])
    _raw("UPDATE protection_auditentry SET sequence = %s WHERE id = %s", [a.sequence, b.pk])
    _raw("UPDATE protection_auditentry SET sequence = %s WHERE id = %s", [b.sequence, a.pk])
    problem = verify()[1]
    assert problem is not None and problem.sequence == a.sequence


def test_verify_audit_reports_a_forged_recomputed_hash(db: Any) -> None:
    """Rewriting a row and its own hash still breaks the next row's link."""
    from qingfeng.protection.audit import entry_hash

    entries = _fill(3)
    forged = AuditEntry.objects.get(pk=entries[1].pk)
    forged.object_id = "C-forged"
    new_hash = entry_hash(forged)
    _raw(
        "UPDATE protection_auditentry SET object_id = 'C-forged', entry_hash = %s WHERE id = %s", [new_hash, forged.pk]
    )
    problem = verify()[1]
    assert problem is not None and problem.sequence == entries[2].sequence


@pytest.mark.postgres  # SQLite serialises writers itself; the row lock matters on PostgreSQL
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain() -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                audit_record(actor=None, action="race", object_type="t", object_id=f"{n}-{i}", office=None)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert AuditEntry.objects.filter(action="race").count() == 40
    assert verify()[1] is None


def _web(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_auditor_searches_by_actor_action_case_and_date(make_user: Any, tree: Any, staff: Any) -> None:
    auditor = make_user(tree["county"], Role.AUDITOR)
    actor = staff("county")
    audit_record(actor=actor, action="export", object_type="case_list", object_id="csv", office=actor.office)
    audit_record(actor=None, action="identity_view", object_type="case", object_id="110101-2026-000001", office=None)
    client = _web(auditor)
    rows = lambda q: client.get(f"/protection/audit/?{q}").content.decode().count('data-testid="audit-row"')  # noqa: E731
    assert rows("") == 2
    assert rows(f"actor={actor.username}") == 1
    assert rows("action=identity_view") == 1
    assert rows("case_number=110101-2026-000001") == 1
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert rows(f"date_from={tomorrow}") == 0
    assert client.get("/protection/audit/?date_from=nonsense").status_code == 400


def test_the_audit_page_is_only_for_auditors(make_user: Any, tree: Any) -> None:
    for role in (Role.LEADER, Role.ANALYST, Role.ADMINISTRATOR):
        assert _web(make_user(tree["county"], role)).get("/protection/audit/").status_code == 403
    assert Client().get("/protection/audit/").status_code == 302

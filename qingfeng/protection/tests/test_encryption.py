"""Identities are ciphertext at rest; rotate_field_key moves every value to the newest key."""

from __future__ import annotations

from io import StringIO
from typing import Any

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from qingfeng.cases.models import ReportedParty, Reporter
from qingfeng.intake.services import PartyInput
from qingfeng.protection.models import AuditEntry
from qingfeng.protection.tests.conftest import IDENTITY

PARTY_ID = "110101198001010010"


def _raw_dump(table: str) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return "\n".join(repr(row) for row in cur.fetchall())


def _register_secret(register: Any, staff: Any, secret_reporter: Any) -> Any:
    return register(
        "county",
        actor=staff("county"),
        reporter=secret_reporter,
        parties=[PartyInput(name="李四", post="镇长", unit="某某镇人民政府", id_number=PARTY_ID)],
    )


def test_raw_rows_hold_no_plaintext_identity(register: Any, staff: Any, secret_reporter: Any) -> None:
    _register_secret(register, staff, secret_reporter)
    dump = _raw_dump("cases_reporter") + _raw_dump("cases_reportedparty")
    assert "fernet:" in dump
    for field, value in IDENTITY.items():
        assert value not in dump, field
    assert PARTY_ID not in dump
    # The audit log records that an identity was registered, never the identity itself.
    audit_dump = _raw_dump("protection_auditentry")
    assert not [v for v in IDENTITY.values() if v in audit_dump]


def test_rotate_field_key_reencrypts_everything_under_the_first_key(
    register: Any, staff: Any, secret_reporter: Any
) -> None:
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[key_a]):
        case = _register_secret(register, staff, secret_reporter)
        before = _raw_dump("cases_reporter")
    with override_settings(FIELD_ENCRYPTION_KEYS=[key_b, key_a]):
        out = StringIO()
        call_command("rotate_field_key", "--batch-size", "1", stdout=out)
        assert "cases.Reporter: 7 value(s) re-encrypted" in out.getvalue()
        assert "cases.ReportedParty: 1 value(s) re-encrypted" in out.getvalue()
        again = StringIO()
        call_command("rotate_field_key", stdout=again)  # idempotent
        assert "Done: 0 value(s) re-encrypted" in again.getvalue()
    after = _raw_dump("cases_reporter")
    assert after != before
    with override_settings(FIELD_ENCRYPTION_KEYS=[key_b]):
        reporter = Reporter.objects.get(case=case)
        for field, value in IDENTITY.items():
            assert getattr(reporter, field) == value, field
        assert ReportedParty.objects.get(case=case).id_number == PARTY_ID
    for value in IDENTITY.values():
        assert value not in after
    assert AuditEntry.objects.filter(action="key_rotation").count() == 2

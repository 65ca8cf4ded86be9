"""The audit table refuses UPDATE and DELETE on PostgreSQL (a trigger); the chain head row exists."""

from typing import Any

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION protection_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'protection_auditentry is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER protection_auditentry_append_only
BEFORE UPDATE OR DELETE ON protection_auditentry
FOR EACH ROW EXECUTE FUNCTION protection_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS protection_auditentry_append_only ON protection_auditentry;
DROP FUNCTION IF EXISTS protection_audit_append_only();
"""


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(TRIGGER)
    apps.get_model("protection", "AuditChainHead").objects.get_or_create(pk=1)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("protection", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]

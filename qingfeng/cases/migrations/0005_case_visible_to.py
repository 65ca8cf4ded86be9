from django.db import migrations

# PostgreSQL only: cases_case.visible_to, the ids of the offices with a CaseAccess row that is
# not hidden, with a GIN index. A list filtered by full text, state or deadline then
# intersects two index bitmaps (the office's cases AND the matching ones) instead of checking
# every case the office can see. The column is not on the Django model: the database keeps it
# in step, so no write path (services, imports, bulk loads, queryset updates) can forget it:
#
# - a new case starts with its holding office (which gets its access row in the same
#   transaction), so registering does not write the case twice;
# - every INSERT, UPDATE or DELETE on cases_caseaccess recomputes the array of the cases it
#   touched, set-based, once per statement (a bulk load's COPY costs one query per batch).
#
# The list still checks the CaseAccess row itself (selectors.case_list): visible_to only
# narrows the search, so a stale entry could never show a case to an office.

FORWARD = r"""
ALTER TABLE cases_case ADD COLUMN IF NOT EXISTS visible_to bigint[] NOT NULL DEFAULT '{}';

UPDATE cases_case c SET visible_to = s.offices
FROM (
    SELECT case_id, array_agg(office_id ORDER BY office_id) AS offices
    FROM cases_caseaccess WHERE NOT hidden GROUP BY case_id
) s
WHERE c.id = s.case_id AND c.visible_to IS DISTINCT FROM s.offices;

CREATE INDEX IF NOT EXISTS case_visible_gin ON cases_case USING gin (visible_to);

CREATE OR REPLACE FUNCTION cases_case_visible_start() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.visible_to = '{}' THEN
        NEW.visible_to := ARRAY[NEW.holding_office_id];
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION cases_access_visible_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT case_id) INTO touched FROM access_new;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(DISTINCT case_id) INTO touched
        FROM (SELECT case_id FROM access_new UNION SELECT case_id FROM access_old) t;
    ELSE
        SELECT array_agg(DISTINCT case_id) INTO touched FROM access_old;
    END IF;
    IF touched IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE cases_case c SET visible_to = s.offices
    FROM (
        SELECT k.case_id,
               COALESCE(array_agg(a.office_id ORDER BY a.office_id) FILTER (WHERE a.office_id IS NOT NULL),
                        '{}') AS offices
        FROM unnest(touched) AS k(case_id)
        LEFT JOIN cases_caseaccess a ON a.case_id = k.case_id AND NOT a.hidden
        GROUP BY k.case_id
    ) s
    WHERE c.id = s.case_id AND c.visible_to IS DISTINCT FROM s.offices;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS cases_case_visible_start ON cases_case;
CREATE TRIGGER cases_case_visible_start BEFORE INSERT ON cases_case
    FOR EACH ROW EXECUTE FUNCTION cases_case_visible_start();

DROP TRIGGER IF EXISTS cases_access_visible_ins ON cases_caseaccess;
CREATE TRIGGER cases_access_visible_ins AFTER INSERT ON cases_caseaccess
    REFERENCING NEW TABLE AS access_new
    FOR EACH STATEMENT EXECUTE FUNCTION cases_access_visible_sync();

DROP TRIGGER IF EXISTS cases_access_visible_upd ON cases_caseaccess;
CREATE TRIGGER cases_access_visible_upd AFTER UPDATE ON cases_caseaccess
    REFERENCING NEW TABLE AS access_new OLD TABLE AS access_old
    FOR EACH STATEMENT EXECUTE FUNCTION cases_access_visible_sync();

DROP TRIGGER IF EXISTS cases_access_visible_del ON cases_caseaccess;
CREATE TRIGGER cases_access_visible_del AFTER DELETE ON cases_caseaccess
    REFERENCING OLD TABLE AS access_old
    FOR EACH STATEMENT EXECUTE FUNCTION cases_access_visible_sync();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS cases_access_visible_del ON cases_caseaccess;
DROP TRIGGER IF EXISTS cases_access_visible_upd ON cases_caseaccess;
DROP TRIGGER IF EXISTS cases_access_visible_ins ON cases_caseaccess;
DROP TRIGGER IF EXISTS cases_case_visible_start ON cases_case;
DROP FUNCTION IF EXISTS cases_access_visible_sync();
DROP FUNCTION IF EXISTS cases_case_visible_start();
DROP INDEX IF EXISTS case_visible_gin;
ALTER TABLE cases_case DROP COLUMN IF EXISTS visible_to;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_bulk_dropped_index")]
    operations = [migrations.RunPython(forward, backward)]

"""Need-to-know over every role × office relation × identity-bearing endpoint and page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qingfeng.accounts.models import Role
from qingfeng.protection.models import AuditEntry
from qingfeng.protection.tests.conftest import IDENTITY

HANDLING = {Role.INTAKE_CLERK, Role.PETITION_HEAD, Role.HANDLER, Role.DEPARTMENT_HEAD, Role.LEADER}

# (relation, case scenario, viewer office, can the office read the case at all)
RELATIONS = [
    ("holding office", "holding", "county", True),
    ("sending office that transferred it down", "sender", "city", True),
    ("sibling office", "holding", "sibling", False),
    ("upper office that never saw it", "holding", "province", False),
    ("office that sent it up as concerning its own leaders", "hidden", "county", False),
]
ROLES = [r.value for r in Role]


def _web(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.parametrize("relation,scenario_key,office,readable", RELATIONS, ids=[r[0] for r in RELATIONS])
@pytest.mark.parametrize("role", ROLES)
def test_identity_is_shown_only_to_handling_roles_of_the_holding_office_on_every_endpoint(
    api: Any,
    make_user: Any,
    tree: Any,
    scenario: Any,
    relation: str,
    scenario_key: str,
    office: str,
    readable: bool,
    role: str,
) -> None:
    case = scenario(scenario_key)
    user = make_user(tree[office], role)
    sees = readable and relation == "holding office" and role in HANDLING
    name = IDENTITY["name"]
    before = AuditEntry.objects.filter(action="identity_view").count()

    r = api(user).get(f"/api/v1/cases/{case.number}/")
    assert r.status_code == (200 if readable else 404)
    body = r.content.decode()
    assert (name in body) is sees
    if not sees:
        assert not [v for v in IDENTITY.values() if v in body]

    page = _web(user).get(f"/cases/{case.number}/")
    assert page.status_code == (200 if readable else 404)
    html = page.content.decode()
    assert (name in html) is sees
    if readable and not sees:
        assert 'data-testid="reporter-protected"' in html
        assert not [v for v in IDENTITY.values() if v in html]

    # Each identity view (API + web) is in the audit log; nothing is logged when nothing is shown.
    assert AuditEntry.objects.filter(action="identity_view").count() - before == (2 if sees else 0)

    for export in ("/cases/export.csv", "/cases/export.xlsx"):
        r = _web(user).get(export)
        assert r.status_code == 200
        content = b"".join(r.streaming_content) if r.streaming else r.content
        assert name.encode() not in content and IDENTITY["phone"].encode() not in content

    att = case.attachments.first()
    downloads = AuditEntry.objects.filter(action="attachment_download").count()
    r = api(user).get(f"/api/v1/cases/{case.number}/attachments/{att.pk}/")
    assert r.status_code == (200 if readable else 404)
    r = _web(user).get(f"/cases/{case.number}/attachments/{att.pk}/")
    assert r.status_code == (200 if readable else 404)
    assert AuditEntry.objects.filter(action="attachment_download").count() - downloads == (2 if readable else 0)

    audit_page = _web(user).get("/protection/audit/")
    assert audit_page.status_code == (200 if role == Role.AUDITOR else 403)
    assert name not in audit_page.content.decode()


def test_exports_are_written_to_the_audit_log(staff: Any, register: Any) -> None:
    register("county", actor=staff("county"))
    client = _web(staff("county"))
    client.get("/cases/export.csv?status=received")
    client.get("/cases/export.xlsx")
    entries = list(AuditEntry.objects.filter(action="export").order_by("sequence"))
    assert [e.object_id for e in entries] == ["csv", "xlsx"]
    assert entries[0].detail["filters"] == "status=received"
    assert entries[0].actor_id == staff("county").pk


def test_registration_of_an_identity_is_audited(staff: Any, register: Any, secret_reporter: Any) -> None:
    case = register("county", actor=staff("county"), reporter=secret_reporter)
    entry = AuditEntry.objects.get(action="identity_register", case_number=case.number)
    assert entry.actor_id == staff("county").pk
    assert IDENTITY["name"] not in str(entry.detail)


def test_the_need_to_know_rule_lives_in_one_place() -> None:
    from qingfeng.cases import serializers
    from qingfeng.protection import selectors
    from qingfeng.web.views import cases

    assert serializers.can_see_identity is selectors.can_see_identity is cases.can_see_identity


def test_an_anonymous_reporters_contact_phone_stays_with_the_holding_office(
    api: Any, staff: Any, register: Any, make_user: Any, tree: Any
) -> None:
    from qingfeng.intake.services import ReporterInput

    case = register("city", actor=staff("city"), reporter=ReporterInput(anonymous=True, phone="13698765432"))
    from qingfeng.cases.services import case_transition

    case_transition(
        case_number=case.number,
        action="transfer_down",
        actor=staff("city"),
        reason="属地",
        params={"target_office": "110101"},
    )
    assert "13698765432" not in api(staff("city")).get(f"/api/v1/cases/{case.number}/").content.decode()
    assert "13698765432" in api(staff("county")).get(f"/api/v1/cases/{case.number}/").content.decode()

"""A user without need-to-know asks; a leader of the holding office decides; approval is time-limited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qingfeng.accounts.models import Role
from qingfeng.cases.models import CaseEvent
from qingfeng.core.errors import Conflict, PermissionDenied, ValidationFailed
from qingfeng.notifications.models import Notification
from qingfeng.protection.models import AuditEntry, IdentityAccessRequest
from qingfeng.protection.selectors import can_see_identity
from qingfeng.protection.services import identity_request_create, identity_request_decide
from qingfeng.protection.tests.conftest import IDENTITY


def _web(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def setting(scenario: Any, make_user: Any, tree: Any) -> dict[str, Any]:
    case = scenario("sender")  # held by the county; the city sent it down
    return {
        "case": case,
        "asker": make_user(tree["city"], Role.HANDLER, username="city_handler"),
        "leader": make_user(tree["county"], Role.LEADER, username="county_leader"),
        "other_leader": make_user(tree["city"], Role.LEADER, username="city_leader"),
    }


def test_the_case_page_offers_a_request_link_where_the_identity_would_be(setting: Any) -> None:
    html = _web(setting["asker"]).get(f"/cases/{setting['case'].number}/").content.decode()
    assert 'data-testid="identity-request-link"' in html
    assert IDENTITY["name"] not in html


def test_a_request_approved_by_the_holding_office_leader_grants_time_limited_access(setting: Any) -> None:
    case, asker, leader = setting["case"], setting["asker"], setting["leader"]
    r = _web(asker).post(f"/protection/cases/{case.number}/identity-request/", {"reason": "核查线索需联系举报人"})
    assert r.status_code == 302
    req = IdentityAccessRequest.objects.get(case=case, requester=asker)
    assert req.status == "pending" and req.office_id == asker.office_id
    assert CaseEvent.objects.filter(case=case, action="identity_request").exists()
    assert Notification.objects.filter(user=leader, case=case).exists()
    assert 'data-testid="identity-request-pending"' in _web(asker).get(f"/cases/{case.number}/").content.decode()

    queue = _web(leader).get("/protection/requests/")
    assert queue.status_code == 200 and case.number in queue.content.decode()

    r = _web(leader).post(f"/protection/requests/{req.pk}/decide/", {"decision": "approve", "reason": "同意"})
    assert r.status_code == 302
    req.refresh_from_db()
    assert req.status == "approved" and req.decided_by == leader
    assert req.expires_at is not None and req.expires_at - req.decided_at == timedelta(days=7)
    assert CaseEvent.objects.filter(case=case, action="identity_request_approved").exists()
    assert Notification.objects.filter(user=asker, case=case).exists()
    assert AuditEntry.objects.filter(action="identity_request_approved", case_number=case.number).exists()

    assert IDENTITY["name"] in _web(asker).get(f"/cases/{case.number}/").content.decode()
    assert can_see_identity(asker, case)

    IdentityAccessRequest.objects.filter(pk=req.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not can_see_identity(asker, case)
    assert IDENTITY["name"] not in _web(asker).get(f"/cases/{case.number}/").content.decode()


def test_a_rejection_needs_a_reason_and_tells_the_requester(setting: Any) -> None:
    case, asker, leader = setting["case"], setting["asker"], setting["leader"]
    req = identity_request_create(case=case, requester=asker, reason="需要核实")
    with pytest.raises(ValidationFailed):
        identity_request_decide(request_id=req.pk, leader=leader, approve=False, reason="")
    identity_request_decide(request_id=req.pk, leader=leader, approve=False, reason="无必要")
    req.refresh_from_db()
    assert req.status == "rejected" and req.expires_at is None
    assert CaseEvent.objects.filter(case=case, action="identity_request_rejected").exists()
    assert Notification.objects.filter(user=asker, message__contains="无必要").exists()
    assert not can_see_identity(asker, case)
    with pytest.raises(Conflict):
        identity_request_decide(request_id=req.pk, leader=leader, approve=True)


def test_only_a_leader_of_the_holding_office_may_decide(setting: Any, make_user: Any, tree: Any) -> None:
    req = identity_request_create(case=setting["case"], requester=setting["asker"], reason="需要")
    for outsider in (setting["other_leader"], make_user(tree["county"], Role.DEPARTMENT_HEAD)):
        with pytest.raises(PermissionDenied):
            identity_request_decide(request_id=req.pk, leader=outsider, approve=True)
    assert (
        _web(setting["other_leader"]).get("/protection/requests/").content.decode().count(setting["case"].number) == 0
    )
    assert _web(setting["asker"]).get("/protection/requests/").status_code == 403


def test_analysts_cannot_request_identities_and_a_reason_is_required(setting: Any, make_user: Any, tree: Any) -> None:
    analyst = make_user(tree["city"], Role.ANALYST)
    with pytest.raises(PermissionDenied):
        identity_request_create(case=setting["case"], requester=analyst, reason="统计")
    with pytest.raises(ValidationFailed):
        identity_request_create(case=setting["case"], requester=setting["asker"], reason="  ")
    assert _web(analyst).get(f"/protection/cases/{setting['case'].number}/identity-request/").status_code == 403


def test_a_grant_does_not_reach_a_case_hidden_from_the_office(scenario: Any, make_user: Any, tree: Any) -> None:
    case = scenario("hidden")
    county_handler = make_user(tree["county"], Role.HANDLER)
    IdentityAccessRequest.objects.create(
        case=case,
        requester=county_handler,
        office=tree["county"],
        reason="x",
        status="approved",
        expires_at=timezone.now() + timedelta(days=1),
    )
    assert not can_see_identity(county_handler, case)

"""The supervision API: shapes, scoping and errors as {"message": ...}."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from qingfeng.accounts.models import Role
from qingfeng.cases.models import CaseEvent
from qingfeng.supervision.models import Chase, SupervisionMark
from qingfeng.supervision.tests.conftest import make_overdue

pytestmark = pytest.mark.django_db


def test_the_sent_down_list_names_holder_days_held_and_deadline_level(api, sent_case, supervisor):
    r = api(supervisor).get("/api/v1/supervision/sent-down/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["number"] == sent_case.number
    assert row["holding_office"] == "110101001" and row["holding_office_name"] == "东华门街道纪工委"
    assert row["days_held"] == 0 and row["deadline_level"] in {"ok", "warn"}
    assert row["next_due_kind"] == "accept" and row["next_due_label"]
    assert (row["open_marks"], row["our_mark_due"], row["last_chase_at"]) == (0, None, None)


def test_the_sent_down_list_filters_and_refuses_an_office_outside_the_subtree(api, sent_case, supervisor):
    client = api(supervisor)
    make_overdue(sent_case, due=timezone.localdate() - timedelta(days=2), serious_on=timezone.localdate())
    assert client.get("/api/v1/supervision/sent-down/", {"deadline": "overdue"}).json()["count"] == 1
    assert client.get("/api/v1/supervision/sent-down/", {"deadline": "serious"}).json()["count"] == 0
    assert client.get("/api/v1/supervision/sent-down/", {"office": "110101"}).json()["count"] == 1
    assert client.get("/api/v1/supervision/sent-down/", {"supervised": "true"}).json()["count"] == 0
    for bad in ("110102001", "1101", "11", "nope"):
        r = client.get("/api/v1/supervision/sent-down/", {"office": bad})
        assert r.status_code == 422 and "Choose an office below yours." in r.json()["message"], bad
    r = client.get("/api/v1/supervision/sent-down/", {"deadline": "someday"})
    assert r.status_code == 400 and "deadline" in r.json()["extra"]["fields"]


def test_a_sibling_sees_an_empty_list_and_a_user_without_office_is_refused(api, sent_case, staff, make_user):
    assert api(staff("sibling")).get("/api/v1/supervision/sent-down/").json()["count"] == 0
    r = api(make_user(None, Role.LEADER)).get("/api/v1/supervision/sent-down/")
    assert r.status_code == 403 and "no office" in r.json()["message"]
    assert api(None).get("/api/v1/supervision/sent-down/").status_code in (401, 403)


def test_the_overdue_board(api, register, staff, send_down, supervisor):
    today = timezone.localdate()
    a = send_down(register("city", actor=staff("city")), "county", "street")
    make_overdue(a, due=today - timedelta(days=8), serious_on=today - timedelta(days=1))
    r = api(supervisor).get("/api/v1/supervision/overdue-board/")
    assert r.status_code == 200
    body = r.json()
    assert body["by"] == "child" and body["date"] == today.isoformat()
    assert body["rows"] == [
        {
            "office": "110101",
            "office_name": "东城区纪委监委",
            "total": 1,
            "serious": 1,
            "overdue_only": 0,
            "supervised": 0,
            "oldest_due": (today - timedelta(days=8)).isoformat(),
            "max_days_late": 8,
        }
    ]
    assert api(supervisor).get("/api/v1/supervision/overdue-board/", {"by": "holder"}).json()["rows"][0]["office"] == (
        "110101001"
    )
    assert api(supervisor).get("/api/v1/supervision/overdue-board/", {"by": "region"}).status_code == 400


def test_supervise_and_chase_through_the_api(api, sent_case, supervisor, staff):
    later = (timezone.localdate() + timedelta(days=7)).isoformat()
    client = api(supervisor)
    r = client.post(
        f"/api/v1/supervision/cases/{sent_case.number}/supervise/",
        {"form": "on_site", "note": "现场督办", "target_date": later},
        format="json",
    )
    assert r.status_code == 201, r.content
    mark = r.json()
    assert mark["office"] == "1101" and mark["target_office"] == "110101001" and mark["is_open"] is True
    assert mark["created_by"] == "city_head"
    r = client.post(f"/api/v1/supervision/cases/{sent_case.number}/chase/", {"message": "请尽快办理"}, format="json")
    assert r.status_code == 201
    chase = r.json()
    assert chase["target_office_name"] == "东华门街道纪工委" and chase["seen_at"] is None
    r = api(staff("street")).post(f"/api/v1/supervision/chases/{chase['id']}/seen/", {"reply": "收到"}, format="json")
    assert r.status_code == 200 and r.json()["reply"] == "收到" and r.json()["seen_by"] == "staff_street"
    r = client.post(f"/api/v1/supervision/marks/{mark['id']}/close/", {"reason": "已办结"}, format="json")
    assert r.status_code == 200 and r.json()["is_open"] is False and r.json()["closed_by"] == "city_head"
    detail = api(staff("street")).get(f"/api/v1/supervision/cases/{sent_case.number}/").json()
    assert detail["can_supervise"] is False and len(detail["marks"]) == 1 and len(detail["chases"]) == 1
    assert api(supervisor).get(f"/api/v1/supervision/cases/{sent_case.number}/").json()["can_supervise"] is True
    actions = list(CaseEvent.objects.filter(case=sent_case).values_list("action", flat=True))
    assert actions[-4:] == ["supervise", "chase", "chase_seen", "close_supervision"]


def test_api_errors_carry_a_message(api, sent_case, supervisor, staff, make_user):
    later = (timezone.localdate() + timedelta(days=7)).isoformat()
    url = f"/api/v1/supervision/cases/{sent_case.number}/supervise/"
    good = {"form": "phone", "note": "督办", "target_date": later}
    r = api(staff("sibling")).post(url, good, format="json")
    assert r.status_code == 404 and sent_case.number in r.json()["message"]
    r = api(staff("street")).post(url, good, format="json")
    assert r.status_code == 403 and "upper office" in r.json()["message"]
    r = api(make_user(staff("city").office, Role.HANDLER)).post(url, good, format="json")
    assert r.status_code == 403 and r.json()["extra"]["required_roles"]
    r = api(supervisor).post(url, {**good, "target_date": timezone.localdate().isoformat()}, format="json")
    assert r.status_code == 422 and "target_date" in r.json()["extra"]["fields"]
    r = api(supervisor).post(url, {"form": "fax"}, format="json")
    assert r.status_code == 400 and {"form", "note", "target_date"} <= set(r.json()["extra"]["fields"])
    assert api(supervisor).post(url, good, format="json").status_code == 201
    r = api(supervisor).post(url, good, format="json")
    assert r.status_code == 409 and "already supervises" in r.json()["message"]
    r = api(supervisor).post("/api/v1/supervision/cases/NOPE-1/chase/", {"message": "x"}, format="json")
    assert r.status_code == 404
    r = api(supervisor).post("/api/v1/supervision/chases/999/seen/", {}, format="json")
    assert r.status_code == 404 and r.json()["message"] == "No such chase."
    assert SupervisionMark.objects.count() == 1 and Chase.objects.count() == 0


def test_the_supervision_paths_do_not_clash_with_workflow_actions(api, sent_case, staff):
    # /api/v1/cases/<number>/<action>/ is the workflow; supervision lives under /api/v1/supervision/.
    r = api(staff("street")).post(f"/api/v1/cases/{sent_case.number}/supervise/", {}, format="json")
    assert r.status_code == 404


def test_the_openapi_schema_documents_the_endpoints(api, staff):
    r = api(staff("city")).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in (
        "/api/v1/supervision/sent-down/",
        "/api/v1/supervision/overdue-board/",
        "/api/v1/supervision/cases/{number}/supervise/",
        "/api/v1/supervision/cases/{number}/chase/",
        "/api/v1/supervision/marks/{mark_id}/close/",
        "/api/v1/supervision/chases/{chase_id}/seen/",
        "/api/v1/notifications/",
        "/api/v1/notifications/unread-count/",
        "/api/v1/notifications/{notification_id}/read/",
    ):
        assert p in paths, p

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from qingfeng.accounts.models import Role
from qingfeng.cases.models import Case

pytestmark = pytest.mark.django_db

REPORT = {
    "channel": "phone",
    "title": "反映某村支书挪用扶贫资金",
    "description": "某村支书王某2025年挪用扶贫专项资金五万元用于个人建房。",
    "region_code": "110101",
    "categories": ["mass.poverty_funds"],
    "tags": ["rural"],
    "reporter": {"anonymous": False, "name": "张三", "phone": "13800138000"},
    "parties": [{"kind": "person", "name": "王某", "post": "村支书", "rank": "village", "unit": "某村委会"}],
}


def test_registration_through_the_api_returns_the_case(api, staff):
    r = api(staff("county")).post("/api/v1/cases/", REPORT, format="json")
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["number"].startswith("110101-")
    assert created["status"] == "received" and created["next_due_kind"] == "screening"
    assert created["categories"] == ["mass.poverty_funds"]
    assert "reporter" not in created  # the answer to a registration carries no identity
    body = api(staff("county")).get(created["url"]).json()
    assert body["reporter"]["name"] == "张三"
    assert body["timeline"][0]["action"] == "register"
    assert "screen" in body["allowed_actions"]
    assert body["open_deadlines"][0]["kind"] == "screening"


def test_registration_errors_name_the_field(api, staff):
    bad = {**REPORT, "channel": "fax", "region_code": "abc"}
    r = api(staff("county")).post("/api/v1/cases/", bad, format="json")
    assert r.status_code == 400
    body = r.json()
    assert "channel" in body["extra"]["fields"] and "region_code" in body["extra"]["fields"]
    assert "channel" in body["message"]
    assert Case.objects.count() == 0


def test_unknown_category_is_a_422_with_a_message(api, staff):
    r = api(staff("county")).post("/api/v1/cases/", {**REPORT, "categories": ["nope"]}, format="json")
    assert r.status_code == 422
    assert "nope" in r.json()["message"]


def test_multipart_registration_with_an_attachment_and_a_413_for_a_big_one(api, staff, settings):
    client = api(staff("county"))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    data = {
        "channel": "letter",
        "title": "来信",
        "description": "来信内容",
        "region_code": "110101",
        "attachments": [SimpleUploadedFile("a.png", png)],
    }
    r = client.post("/api/v1/cases/", data, format="multipart")
    assert r.status_code == 201, r.content
    att = client.get(r.json()["url"]).json()["attachments"][0]
    download = client.get(f"/api/v1/cases/{r.json()['number']}/attachments/{att['id']}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == png
    settings.ATTACHMENT_MAX_BYTES = 10
    data["attachments"] = [SimpleUploadedFile("a.png", png)]
    r = client.post("/api/v1/cases/", data, format="multipart")
    assert r.status_code == 413
    assert r.json()["extra"]["limit_bytes"] == 10 and "a.png" in r.json()["message"]


def test_only_intake_roles_may_register(api, tree, make_user):
    analyst = make_user(tree["county"], Role.ANALYST)
    r = api(analyst).post("/api/v1/cases/", REPORT, format="json")
    assert r.status_code == 403
    assert r.json()["message"]


def test_anonymous_requests_are_refused(api):
    assert api(None).get("/api/v1/cases/").status_code in (401, 403)


def test_token_authentication_works(tree, staff):
    token = Token.objects.create(user=staff("county"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/cases/").status_code == 200


def test_a_wrong_token_or_a_deactivated_users_token_is_refused_with_a_message(tree, staff):
    user = staff("county")
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    r = client.get("/api/v1/cases/")
    assert r.status_code == 401 and r.json()["message"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    r = client.get("/api/v1/cases/")
    assert r.status_code == 401 and r.json()["message"]


def test_a_county_never_sees_a_siblings_cases(api, staff, register):
    mine = register("county", actor=staff("county"))
    theirs = register("sibling", actor=staff("sibling"))
    numbers = [c["number"] for c in api(staff("county")).get("/api/v1/cases/").json()["results"]]
    assert numbers == [mine.number]
    r = api(staff("county")).get(f"/api/v1/cases/{theirs.number}/")
    assert r.status_code == 404


def test_upper_office_sees_only_cases_it_sent_down(api, staff, register, tree):
    sent = register("city", actor=staff("city"))
    api(staff("city")).post(
        f"/api/v1/cases/{sent.number}/transfer-down/", {"target_office": "110101", "reason": "属地管理"}, format="json"
    )
    register("county", actor=staff("county"))  # the county's own case: not the city's business
    city_numbers = [c["number"] for c in api(staff("city")).get("/api/v1/cases/").json()["results"]]
    assert city_numbers == [sent.number]
    county_list = api(staff("county")).get("/api/v1/cases/").json()
    assert county_list["count"] == 2


def test_filters_by_state_channel_deadline_office_dates_and_text(api, staff, register, tree):
    client = api(staff("county"))
    a = register(
        "county", actor=staff("county"), channel="letter", title="反映扶贫资金问题", description="扶贫资金被截留"
    )
    b = register(
        "county", actor=staff("county"), channel="visit", title="反映耕地被占", description="基本农田被违法占用"
    )
    client.post(
        f"/api/v1/cases/{b.number}/transfer-down/", {"target_office": "110101001", "reason": "属地"}, format="json"
    )

    def numbers(**params):
        r = client.get("/api/v1/cases/", params)
        assert r.status_code == 200, r.content
        return {c["number"] for c in r.json()["results"]}

    assert numbers(channel="letter") == {a.number}
    assert numbers(status="received") == {a.number, b.number}
    assert numbers(office="110101001") == {b.number}
    assert numbers(q="扶贫") == {a.number}
    assert numbers(q="农田") == {b.number}
    assert numbers(q="扶贫 农田") == set()
    today = timezone.localdate()
    assert numbers(received_from=today.isoformat(), received_to=today.isoformat()) == {a.number, b.number}
    assert numbers(received_to=(today - timedelta(days=1)).isoformat()) == set()
    assert numbers(deadline="overdue") == set()
    Case.objects.filter(pk=a.pk).update(next_due=today - timedelta(days=1))
    assert numbers(deadline="overdue") == {a.number}
    assert numbers(region="1101") == {a.number, b.number}


def test_filter_errors_are_400_with_messages(api, staff):
    r = api(staff("county")).get("/api/v1/cases/", {"status": "nonsense", "received_from": "2026-13-01"})
    assert r.status_code == 400
    assert {"status", "received_from"} <= set(r.json()["extra"]["fields"])
    r = api(staff("county")).get("/api/v1/cases/", {"office": "110102"})
    assert r.status_code == 422


def test_the_case_list_query_count_is_bounded(api, staff, register):
    client = api(staff("county"))
    for _ in range(3):
        register("county", actor=staff("county"))
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/cases/")
    for _ in range(20):
        register("county", actor=staff("county"))
    with CaptureQueriesContext(connection) as many:
        r = client.get("/api/v1/cases/")
    assert len(r.json()["results"]) == 20
    assert len(many.captured_queries) == len(few.captured_queries) <= 6


def test_each_action_has_its_own_endpoint_and_409_for_a_wrong_state(api, staff, register):
    case = register("county", actor=staff("county"))
    client = api(staff("county"))
    r = client.post(
        f"/api/v1/cases/{case.number}/conclude/", {"substantiation": "substantiated", "conclusion": "x"}, format="json"
    )
    assert r.status_code == 409
    assert r.json()["message"] and r.json()["extra"] == {"status": "received", "action": "conclude"}
    r = client.post(f"/api/v1/cases/{case.number}/accept/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "accepted"


def test_forbidden_role_gets_403_with_a_message_and_nothing_changes(api, tree, make_user, register):
    handler = make_user(tree["county"], Role.HANDLER)
    case = register("county")
    r = api(handler).post(f"/api/v1/cases/{case.number}/accept/", {}, format="json")
    assert r.status_code == 403
    assert r.json()["message"] and "petition_head" in r.json()["extra"]["required_roles"]
    assert Case.objects.get(pk=case.pk).status == "received"


def test_action_input_errors_are_400(api, staff, register):
    case = register("county", actor=staff("county"))
    r = api(staff("county")).post(f"/api/v1/cases/{case.number}/assign/", {"target_office": "110101001"}, format="json")
    assert r.status_code == 400
    assert "due_date" in r.json()["extra"]["fields"]


def test_identity_is_hidden_from_a_sending_office(api, staff, register):
    case = register("county", actor=staff("county"))
    api(staff("county")).post(
        f"/api/v1/cases/{case.number}/transfer-down/", {"target_office": "110101001", "reason": "属地"}, format="json"
    )
    seen_by_sender = api(staff("county")).get(f"/api/v1/cases/{case.number}/").json()
    assert seen_by_sender["reporter"]["name"] != "张三"
    assert "张三" not in str(seen_by_sender)
    assert seen_by_sender["allowed_actions"] == []
    seen_by_holder = api(staff("street")).get(f"/api/v1/cases/{case.number}/").json()
    assert seen_by_holder["reporter"]["name"] == "张三"


def test_openapi_schema_and_docs_are_served(api, staff):
    client = api(staff("county"))
    r = client.get("/api/schema/")
    assert r.status_code == 200
    text = r.content.decode()
    for path in ("/api/v1/cases/", "/api/v1/cases/{number}/conclude/", "/api/v1/cases/{number}/assign/"):
        assert path in text
    assert client.get("/api/docs/").status_code == 200


def test_unknown_case_is_a_404_json(api, staff):
    r = api(staff("county")).get("/api/v1/cases/110101-2026-999999/")
    assert r.status_code == 404 and r.json()["message"]

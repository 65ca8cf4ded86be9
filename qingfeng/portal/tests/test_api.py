from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from qingfeng.cases.models import Attachment, Case
from qingfeng.portal.models import CaseMessage
from qingfeng.portal.tests.conftest import DESCRIPTION

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/portal/reports/"
FOLLOW_UP = "/api/v1/portal/follow-up/"
KEY = "4f1c2e9a-6b7d-4e3f-9a1b-2c3d4e5f6a7b"


def body(**overrides):
    data = {
        "anonymous": True,
        "title": "反映某局长违规吃喝",
        "description": DESCRIPTION,
        "region_code": "110101",
        "party_name": "赵六",
        "party_post": "局长",
    }
    data.update(overrides)
    return data


@pytest.fixture
def api_client(tree) -> APIClient:
    return APIClient(enforce_csrf_checks=True)


def test_a_report_by_json_returns_the_case_number_and_code(api_client, tree):
    response = api_client.post(REPORTS, body(idempotency_key=KEY), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert re.fullmatch(r"\d{5}(-\d{5}){4}", data["receipt_code"])
    case = Case.objects.get(number=data["case_number"])
    assert case.channel == "online" and case.holding_office == tree["county"]
    assert data["duplicate"] is False and data["follow_up_url"].endswith("/portal/follow-up/")
    assert response["Cache-Control"] == "no-store"


def test_the_key_may_come_in_the_header(api_client):
    response = api_client.post(REPORTS, body(), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert response.status_code == 201


def test_a_report_without_an_idempotency_key_is_refused(api_client):
    response = api_client.post(REPORTS, body(), format="json")
    assert response.status_code == 422
    assert "idempotency_key" in response.json()["message"]
    assert Case.objects.count() == 0


def test_the_same_key_twice_files_one_case(api_client):
    first = api_client.post(REPORTS, body(), format="json", HTTP_IDEMPOTENCY_KEY=KEY).json()
    second = api_client.post(REPORTS, body(), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert second.status_code == 200
    assert second.json()["case_number"] == first["case_number"]
    assert second.json()["receipt_code"] == first["receipt_code"] and second.json()["duplicate"] is True
    assert Case.objects.count() == 1


def test_the_same_key_with_other_content_is_a_conflict(api_client):
    api_client.post(REPORTS, body(), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    response = api_client.post(REPORTS, body(title="另一件事"), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert response.status_code == 409
    assert "message" in response.json()


def test_invalid_fields_come_back_as_json_with_a_message(api_client):
    response = api_client.post(
        REPORTS, body(anonymous=False, phone="123", region_code="999999"), format="json", HTTP_IDEMPOTENCY_KEY=KEY
    )
    assert response.status_code == 400
    data = response.json()
    assert data["message"] and set(data["extra"]["fields"]) >= {"phone", "region_code"}


def test_a_real_name_report_needs_a_contact(api_client):
    response = api_client.post(REPORTS, body(anonymous=False, name="张三"), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert response.status_code == 400
    assert "phone" in response.json()["extra"]["fields"]


def test_a_multipart_report_with_a_file_needs_the_header(api_client):
    pdf = SimpleUploadedFile("证据.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    response = api_client.post(REPORTS, {**body(idempotency_key=KEY), "attachments": [pdf]}, format="multipart")
    assert response.status_code == 422  # a key in a form field does not count: it could come from another site
    pdf.seek(0)
    response = api_client.post(REPORTS, {**body(), "attachments": [pdf]}, format="multipart", HTTP_IDEMPOTENCY_KEY=KEY)
    assert response.status_code == 201, response.json()
    assert Attachment.objects.get().original_name == "证据.pdf"


def test_a_plain_text_body_is_not_accepted(api_client):
    response = api_client.post(REPORTS, data='{"anonymous": true}', content_type="text/plain")
    assert response.status_code == 415


def test_submissions_are_rate_limited_with_a_json_message(api_client, settings):
    settings.QINGFENG_PORTAL_THROTTLES = {"submissions_ip": (1, 3600)}
    assert api_client.post(REPORTS, body(), format="json", HTTP_IDEMPOTENCY_KEY=KEY).status_code == 201
    response = api_client.post(REPORTS, body(), format="json", HTTP_IDEMPOTENCY_KEY=KEY[:-1] + "c")
    assert response.status_code == 429
    assert response.json()["message"] and int(response["Retry-After"]) > 0


def test_follow_up_returns_the_state_in_plain_words_and_the_messages(api_client, staff):
    from qingfeng.portal import services

    filed = api_client.post(REPORTS, body(), format="json", HTTP_IDEMPOTENCY_KEY=KEY).json()
    services.office_message_send(case_number=filed["case_number"], user=staff("county"), body="已收到。")
    response = api_client.post(
        FOLLOW_UP, {"case_number": filed["case_number"], "receipt_code": filed["receipt_code"]}, format="json"
    )
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "received" and data["status_label"] and data["status_text"]
    assert data["messages"] == [
        {"direction": "from_office", "body": "已收到。", "created_at": data["messages"][0]["created_at"]}
    ]
    assert data["return_visit"] == {"open": False, "answered": False}
    assert CaseMessage.objects.get().read_at is not None


def test_follow_up_with_a_wrong_code_is_403_then_429(api_client, settings):
    filed = api_client.post(REPORTS, body(), format="json", HTTP_IDEMPOTENCY_KEY=KEY).json()
    wrong = {"case_number": filed["case_number"], "receipt_code": "0" * 25}
    for _ in range(5):
        response = api_client.post(FOLLOW_UP, wrong, format="json")
        assert response.status_code == 403 and response.json()["message"]
    response = api_client.post(FOLLOW_UP, wrong, format="json")
    assert response.status_code == 429
    assert response.json()["extra"]["retry_after"] > 0 and int(response["Retry-After"]) > 0


def test_follow_up_with_a_malformed_code_is_422(api_client):
    response = api_client.post(FOLLOW_UP, {"case_number": "X", "receipt_code": "12"}, format="json")
    assert response.status_code == 422
    assert "receipt_code" in response.json()["extra"]["fields"]


def test_the_api_ignores_a_staff_session(api_client, make_user, tree):
    api_client.force_login(make_user(tree["county"], "intake_clerk"))
    response = api_client.post(REPORTS, body(), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert response.status_code == 201  # no CSRF failure: sessions are not used here
    assert Case.objects.get().created_by is None


def test_the_schema_describes_the_portal_endpoints(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/portal/reports/" in text and "portal_report_create" in text and "/api/v1/portal/follow-up/" in text

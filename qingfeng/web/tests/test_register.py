from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qingfeng.accounts.models import Role
from qingfeng.cases.models import Case

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "phone",
        "received_at": "",
        "source": "own_level",
        "item_type": "accusation",
        "urgency": "normal",
        "region_code": "110101",
        "categories": ["integrity.gifts"],
        "tags": ["rural"],
        "keywords": "礼金",
        "title": "反映某镇镇长违规收受礼金",
        "description": "2026年春节期间，某镇镇长李四收受辖区企业礼金两万元。",
        "ocr_text": "",
        "leader_instructions": "请东城区纪委监委核实",
        "reporter-anonymous": "false",
        "reporter-name": "张三",
        "reporter-phone": "13800138000",
        "reporter-email": "",
        "parties-TOTAL_FORMS": "1",
        "parties-INITIAL_FORMS": "0",
        "parties-MIN_NUM_FORMS": "0",
        "parties-MAX_NUM_FORMS": "50",
        "parties-0-kind": "person",
        "parties-0-name": "李四",
        "parties-0-post": "镇长",
        "parties-0-rank": "township",
        "parties-0-unit": "某某镇人民政府",
    }
    data.update(overrides)
    return data


def test_the_form_offers_every_field_of_the_entry_standard(browser_client, clerk):
    r = browser_client(clerk).get("/cases/new/")
    assert r.status_code == 200
    html = r.content.decode()
    for name in (
        "channel",
        "received_at",
        "source",
        "item_type",
        "urgency",
        "is_group_visit",
        "head_count",
        "region_code",
        "categories",
        "tags",
        "keywords",
        "title",
        "description",
        "ocr_text",
        "leader_instructions",
        "reporter-anonymous",
        "reporter-id_number",
        "reporter-phone",
        "parties-0-name",
        "parties-0-managed_at_this_level",
        "attachments",
    ):
        assert f'name="{name}"' in html, name
    assert 'id="party-empty-form"' in html and "parties-__prefix__-name" in html
    assert 'value="integrity.gifts"' in html  # a child category in the tree
    assert 'enctype="multipart/form-data"' in html


def test_a_clerk_registers_a_report_with_a_party_and_an_attachment(browser_client, clerk):
    data = form_data(attachments=[SimpleUploadedFile("举报信.png", PNG)])
    r = browser_client(clerk).post("/cases/new/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    case = Case.objects.get()
    assert r["Location"] == f"/cases/{case.number}/"
    assert case.channel == "phone" and case.received_office == clerk.office and case.created_by == clerk
    assert case.is_real_name and case.reporter.name == "张三"
    assert [p.name for p in case.reported_parties.all()] == ["李四"]
    assert case.reported_parties.get().rank == "township"
    assert [c.code for c in case.categories.all()] == ["integrity.gifts"]
    assert [t.code for t in case.tags.all()] == ["rural"]
    assert case.attachments.get().original_name == "举报信.png"
    assert case.leader_instructions == "请东城区纪委监委核实"
    page = browser_client(clerk).get(r["Location"])
    assert case.number in page.content.decode()  # the success message names the case


def test_a_group_visit_with_several_parties(browser_client, clerk):
    data = form_data(
        channel="visit",
        is_group_visit="on",
        head_count="12",
        **{
            "parties-TOTAL_FORMS": "3",
            "parties-1-kind": "organisation",
            "parties-1-name": "某某镇人民政府",
            "parties-2-kind": "person",
            "parties-2-name": "",  # an empty extra row is ignored
        },
    )
    r = browser_client(clerk).post("/cases/new/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    case = Case.objects.get()
    assert case.is_group_visit and case.head_count == 12
    assert sorted(p.name for p in case.reported_parties.all()) == ["李四", "某某镇人民政府"]


def test_a_removed_party_row_is_not_registered(browser_client, clerk):
    data = form_data(**{"parties-TOTAL_FORMS": "2", "parties-1-name": "王五", "parties-1-DELETE": "on"})
    assert browser_client(clerk).post("/cases/new/", data).status_code == 302
    assert [p.name for p in Case.objects.get().reported_parties.all()] == ["李四"]


def test_an_anonymous_report_needs_no_identity(browser_client, clerk):
    data = form_data(**{"reporter-anonymous": "true", "reporter-name": "", "reporter-phone": ""})
    assert browser_client(clerk).post("/cases/new/", data).status_code == 302
    assert Case.objects.get().is_real_name is False


def test_form_errors_are_shown_beside_the_fields_and_typed_values_are_kept(browser_client, clerk):
    data = form_data(title="", region_code="abc", **{"parties-0-name": ""})
    r = browser_client(clerk, language="en").post("/cases/new/", data)
    assert r.status_code == 422
    html = r.content.decode()
    assert 'data-testid="error-title"' in html
    assert 'data-testid="error-region_code"' in html
    assert "2, 4, 6 or 9 digits" in html
    assert 'data-testid="error-parties-0-name"' in html
    # nothing typed is lost
    assert "2026年春节期间，某镇镇长李四收受辖区企业礼金两万元。" in html
    assert 'value="13800138000"' in html and 'value="镇长"' in html
    assert 'value="integrity.gifts" id="id_categories_integritygifts" checked' in html
    assert Case.objects.count() == 0


def test_domain_errors_from_the_service_land_beside_their_fields(browser_client, clerk):
    data = form_data(
        **{
            "reporter-phone": "12",
            "parties-0-id_number": "110101199003070000",  # wrong check digit
        }
    )
    r = browser_client(clerk, language="en").post("/cases/new/", data)
    assert r.status_code == 422
    html = r.content.decode()
    assert 'data-testid="error-reporter-phone"' in html and "is not a phone number" in html
    assert 'data-testid="error-parties-0-id_number"' in html and "ID number is not valid" in html
    assert 'value="反映某镇镇长违规收受礼金"' in html
    assert Case.objects.count() == 0


def test_a_real_name_report_without_contact_names_the_reporter_fields(browser_client, clerk):
    data = form_data(**{"reporter-name": "", "reporter-phone": ""})
    r = browser_client(clerk).post("/cases/new/", data)
    assert r.status_code == 422
    html = r.content.decode()
    assert 'data-testid="error-reporter-name"' in html and 'data-testid="error-reporter-phone"' in html


def test_a_group_visit_by_phone_is_refused_beside_the_field(browser_client, clerk):
    r = browser_client(clerk).post("/cases/new/", form_data(is_group_visit="on", head_count="5"))
    assert r.status_code == 422
    assert 'data-testid="error-is_group_visit"' in r.content.decode()


def test_an_oversized_attachment_is_a_413_shown_on_the_attachments_field(browser_client, clerk, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    data = form_data(attachments=[SimpleUploadedFile("big.png", PNG)])
    r = browser_client(clerk, language="en").post("/cases/new/", data)
    assert r.status_code == 413
    html = r.content.decode()
    assert 'data-testid="error-attachments"' in html and "limit" in html
    assert "select them again" in html or "selected again" in html
    assert 'value="反映某镇镇长违规收受礼金"' in html
    assert Case.objects.count() == 0


def test_a_file_of_an_unaccepted_type_is_an_error_on_attachments(browser_client, clerk):
    data = form_data(attachments=[SimpleUploadedFile("virus.pdf", b"MZ\x90\x00\x03\x00\x00\x00")])
    r = browser_client(clerk).post("/cases/new/", data)
    assert r.status_code == 422
    assert 'data-testid="error-attachments"' in r.content.decode()


def test_add_a_party_without_javascript_keeps_everything_typed(browser_client, clerk):
    r = browser_client(clerk).post("/cases/new/", form_data(_add_party="1"))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'name="parties-1-name"' in html and 'value="李四"' in html
    assert 'name="parties-TOTAL_FORMS" value="2"' in html
    assert Case.objects.count() == 0


def test_only_clerks_and_petition_heads_register(browser_client, make_user, tree):
    handler = make_user(tree["county"], Role.HANDLER)
    client = browser_client(handler)
    assert client.get("/cases/new/").status_code == 403
    assert client.post("/cases/new/", form_data()).status_code == 403
    assert Case.objects.count() == 0
    assert 'data-testid="nav-register"' not in client.get("/").content.decode()


def test_a_user_without_an_office_is_refused(browser_client, make_user):
    nobody = make_user(None, Role.INTAKE_CLERK)
    assert browser_client(nobody).get("/cases/new/").status_code == 403

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qingfeng.cases.models import Attachment, Case, CaseEvent
from qingfeng.notifications.models import Notification
from qingfeng.portal.models import PortalSubmission, ReceiptCode

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\d{5}-\d{5}-\d{5}-\d{5}-\d{5}")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_report_form_shows_the_guidance_and_no_staff_navigation(client: Client, tree):
    response = client.get(reverse("portal:report"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="guidance"' in html
    assert "诉讼" in html  # what is outside the remit, in Chinese by default
    assert 'data-testid="main-nav"' not in html and "site-header" not in html
    assert 'action="/i18n/setlang/"' in html
    assert re.search(r'name="token" value="[A-Za-z0-9_-]{32}"', html)
    assert response["Cache-Control"].startswith("max-age=0")


def test_an_anonymous_report_is_registered_online_at_the_county_office_with_a_receipt(client, tree, file_report):
    response = file_report(client)
    assert response.status_code == 200
    html = response.content.decode()
    case = Case.objects.get()
    assert case.channel == "online" and case.received_office == tree["county"] and case.region_code == "110101"
    assert not case.is_real_name and case.reporter.is_anonymous and case.reporter.name == ""
    assert case.reported_parties.get().name == "李四"
    assert case.number in html
    assert CODE.search(html)
    assert 'data-testid="receipt-warning"' in html
    assert Notification.objects.filter(office=tree["county"], case=case, kind="new_case").exists()
    assert ReceiptCode.objects.filter(case=case, origin="online", revoked_at__isnull=True).count() == 1
    assert "no-store" in response["Cache-Control"]


def test_a_real_name_report_keeps_the_reporters_contact(client, tree, file_report):
    response = file_report(
        client, anonymous="real_name", name="张三", phone="138-0013-8000", id_number="11010519491231002X"
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    case = Case.objects.get()
    assert case.is_real_name
    assert case.reporter.name == "张三" and case.reporter.phone == "138-0013-8000"
    assert case.acceptance_notice_due is not None  # real-name reporters are told of acceptance


def test_identity_typed_before_choosing_anonymous_is_not_stored(client, tree, file_report):
    file_report(client, anonymous="anonymous", name="张三", phone="13800138000")
    reporter = Case.objects.get().reporter
    assert reporter.is_anonymous and reporter.name == "" and reporter.phone == "" and reporter.phone_hash == ""


def test_a_wrong_field_keeps_everything_typed_and_says_what_to_fix(client, tree, file_report):
    response = file_report(client, anonymous="real_name", name="张三", phone="12345", title="")
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="form-banner"' in html
    assert 'data-testid="error-phone"' in html and 'data-testid="error-title"' in html
    assert "李四" in html and "某某镇人民政府" in html and "镇长李四多次收受" in html and 'value="12345"' in html
    assert re.search(r'<option value="110101" selected>', html)
    assert 'value="tok-aaaa' in html  # the same token, so the eventual success stays idempotent
    assert Case.objects.count() == 0


def test_a_real_name_report_needs_a_name_and_a_contact(client, tree, file_report):
    response = file_report(client, anonymous="real_name")
    form = response.context["form"]
    assert response.status_code == 422
    assert "name" in form.errors and "phone" in form.errors


def test_an_id_number_with_a_wrong_check_digit_is_refused(client, tree, file_report):
    response = file_report(
        client, anonymous="real_name", name="张三", phone="13800138000", id_number="110105194912310021"
    )
    assert response.status_code == 422
    assert "id_number" in response.context["form"].errors


def test_an_accusation_needs_the_reported_person_but_a_suggestion_does_not(client, tree, file_report):
    response = file_report(client, party_name="")
    assert response.status_code == 422 and "party_name" in response.context["form"].errors
    response = file_report(client, party_name="", item_type="suggestion")
    assert response.status_code == 200
    assert Case.objects.get().item_type == "suggestion"


def test_a_county_outside_the_chosen_city_is_refused(client, tree, file_report):
    response = file_report(client, region_city="1201", region_county="110101")
    assert response.status_code == 422
    assert "region_city" in response.context["form"].errors


def test_without_javascript_the_region_lists_are_refreshed_by_the_server(client, tree, file_report):
    response = file_report(client, region_city="", region_county="", _refine="1", title="")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="1101">' in html  # the cities of Beijing are offered now
    assert 'data-testid="form-banner"' not in html  # nothing was checked yet
    assert Case.objects.count() == 0


def test_the_region_lists_are_served_as_json_for_the_script(client, tree):
    data = client.get(reverse("portal:region-children", args=["1101"])).json()
    assert {"code": "110101", "name": "东城区"} in data["children"]


@pytest.mark.parametrize(
    ("province", "city", "county", "office_key"),
    [
        ("11", "1101", "110102", "sibling"),
        ("11", "1101", "", "city"),
        ("11", "", "", "province"),
        ("12", "1201", "120101", "province2"),  # no city or county office loaded: the province's
        ("13", "1301", "130102", "national"),  # nothing loaded for Hebei: the national office
    ],
)
def test_the_report_goes_to_the_office_of_the_most_specific_region(
    client, tree, file_report, province, city, county, office_key
):
    response = file_report(client, region_province=province, region_city=city, region_county=county)
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.holding_office == tree[office_key]
    assert case.region_code == (county or city or province)


def test_the_same_token_twice_files_one_case_and_shows_the_same_receipt(client, tree, file_report):
    first = file_report(client)
    second = file_report(client)
    assert Case.objects.count() == 1 and PortalSubmission.objects.count() == 1
    code = CODE.search(first.content.decode()).group(0)
    html = second.content.decode()
    assert second.status_code == 200 and code in html
    assert 'data-testid="receipt-duplicate"' in html


def test_a_retry_with_edited_content_says_the_changes_were_not_saved(client, tree, file_report):
    file_report(client)
    html = file_report(client, title="改过的标题").content.decode()
    assert 'data-testid="receipt-content-differs"' in html
    assert Case.objects.get().title == "反映某镇镇长收受礼金"


def test_after_the_retry_window_the_code_is_erased_and_not_shown_again(client, tree, file_report):
    file_report(client)
    PortalSubmission.objects.update(code_expires_at=timezone.now() - timezone.timedelta(seconds=1))
    html = file_report(client).content.decode()
    assert 'data-testid="receipt-code-gone"' in html and not CODE.search(html)
    assert PortalSubmission.objects.get().code_ciphertext == ""


def test_the_kept_copy_of_the_code_is_encrypted(client, tree, file_report):
    html = file_report(client).content.decode()
    code = CODE.search(html).group(0)
    sub = PortalSubmission.objects.get()
    assert sub.code_ciphertext.startswith("fernet:") and code not in sub.code_ciphertext


def test_a_missing_token_asks_to_send_again_without_filing(client, tree, file_report):
    response = file_report(client, token="")
    assert response.status_code == 400
    assert Case.objects.count() == 0
    assert re.search(r'name="token" value="[A-Za-z0-9_-]{32}"', response.content.decode())


def test_more_than_ten_reports_an_hour_from_one_address_get_429_with_a_message(client, tree, file_report, settings):
    settings.QINGFENG_PORTAL_THROTTLES = {"submissions_ip": (2, 3600)}
    for i in range(2):
        assert file_report(client, token=f"token-number-{i:04d}-abcdef").status_code == 200
    response = file_report(client, token="token-number-9999-abcdef")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert 'data-testid="form-banner"' in response.content.decode()
    assert "镇长李四多次收受" in response.content.decode()  # still keeps what was typed
    # A retry of an accepted submission is not a new report and is not limited.
    assert file_report(client, token="token-number-0001-abcdef").status_code == 200
    assert Case.objects.count() == 2


def test_another_address_is_not_limited_by_the_first(client, tree, file_report, settings):
    settings.QINGFENG_PORTAL_THROTTLES = {"submissions_ip": (1, 3600)}
    assert file_report(client, token="token-number-0000-abcdef").status_code == 200
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert file_report(other, token="token-number-0001-abcdef").status_code == 200


def test_files_are_checked_by_content_and_stored(client, tree, file_report):
    upload = SimpleUploadedFile("证据.pdf", PDF, content_type="application/pdf")
    assert file_report(client, attachments=upload).status_code == 200
    att = Attachment.objects.get()
    assert att.content_type == "application/pdf" and att.uploaded_by is None
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" * 10, content_type="image/jpeg")
    response = file_report(client, token="tok-" + "b" * 28, attachments=fake)
    assert response.status_code == 422
    assert "attachments" in response.context["form"].errors
    assert 'data-testid="files-dropped"' in response.content.decode()


def test_a_file_over_the_size_limit_gets_a_clear_413(client, tree, file_report, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    settings.QINGFENG_PORTAL_MAX_REQUEST_BYTES = 1_000_000
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * 200, content_type="application/pdf")
    response = file_report(client, attachments=upload)
    assert response.status_code == 413
    assert "big.pdf" in response.content.decode() and "镇长李四多次收受" in response.content.decode()
    assert Case.objects.count() == 0


def test_a_request_larger_than_the_total_limit_is_refused_before_reading_it(client, tree, settings):
    settings.QINGFENG_PORTAL_MAX_REQUEST_BYTES = 1000
    response = client.post(reverse("portal:report"), data=b"x" * 2000, content_type="application/octet-stream")
    assert response.status_code == 413
    assert 'data-testid="portal-error"' in response.content.decode()


def test_the_registration_event_says_it_came_through_the_portal(client, tree, file_report):
    file_report(client)
    event = CaseEvent.objects.get(action="register")
    assert event.actor is None and event.data["via"] == "portal-form" and event.data["channel"] == "online"


def test_the_office_notification_is_in_chinese_even_for_an_english_reporter(client, tree, file_report):
    client.cookies["django_language"] = "en"
    html = file_report(client).content.decode()
    assert "Your report has been received" in html
    assert Notification.objects.get().message.startswith("新")


def test_the_pages_switch_to_english(client, tree):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/portal/"})
    assert response.status_code == 302
    html = client.get(reverse("portal:report")).content.decode()
    assert "What this office accepts" in html and "Send the report" in html


def test_the_chinese_page_is_translated(client, tree):
    html = client.get(reverse("portal:report")).content.decode()
    assert "What this office accepts" not in html
    assert "提交举报" in html or "发送" in html


def test_the_accepted_file_types_shown_to_reporters_match_the_upload_checks():
    from django.utils import translation

    from qingfeng.cases.attachments import ALLOWED_DESCRIPTION
    from qingfeng.portal.views import ALLOWED_TYPES

    with translation.override("en"):
        assert str(ALLOWED_TYPES) == ALLOWED_DESCRIPTION


def test_the_guidance_page_explains_the_remit_and_the_steps(client, tree):
    response = client.get(reverse("portal:guidance"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="guidance-page"' in html and "仲裁" in html and "15个工作日" in html

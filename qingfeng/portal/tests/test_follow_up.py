from __future__ import annotations

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qingfeng.cases.models import Attachment, Case, CaseEvent
from qingfeng.notifications.models import Notification
from qingfeng.portal import services, views
from qingfeng.portal.models import CaseMessage, ThrottleCounter
from qingfeng.portal.tests.conftest import follow_up_login

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CASE_URL = "/portal/follow-up/case/"


@pytest.fixture
def filed(submit):
    """An anonymous online report at the county office: (case, code)."""
    receipt = submit()
    return Case.objects.get(number=receipt.case_number), receipt.code


@pytest.fixture
def reporter(client: Client, filed) -> Client:
    case, code = filed
    response = follow_up_login(client, case.number, code)
    assert response.status_code == 302 and response["Location"] == CASE_URL
    return client


def test_the_right_number_and_code_open_the_case_in_plain_words(client, filed):
    case, code = filed
    response = follow_up_login(client, case.number.lower(), code.replace("-", " "))
    assert response.status_code == 302
    page = client.get(CASE_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert case.number in html
    assert 'data-status="received"' in html
    assert "no-store" in page["Cache-Control"]


def test_a_wrong_code_is_refused_with_a_message_and_counted(client, filed):
    case, _code = filed
    response = follow_up_login(client, case.number, "00000-00000-00000-00000-00000")
    assert response.status_code == 403
    assert 'data-testid="follow-up-error"' in response.content.decode()
    assert client.get(CASE_URL).status_code == 302  # no session was opened
    failures = ThrottleCounter.objects.filter(scope__startswith="code_failures")
    assert sorted(failures.values_list("scope", "count")) == [("code_failures_case", 1), ("code_failures_ip", 1)]


def test_an_unknown_case_number_gets_the_same_answer_as_a_wrong_code(client, filed):
    _case, code = filed
    response = follow_up_login(client, "110101-2026-999999", code)
    assert response.status_code == 403
    assert 'data-testid="follow-up-error"' in response.content.decode()


def test_a_code_with_a_typing_slip_is_not_counted_as_a_guess(client, filed):
    case, _code = filed
    response = follow_up_login(client, case.number, "12345-6789")
    assert response.status_code == 422
    assert "receipt_code" in response.context["form"].errors
    assert not ThrottleCounter.objects.filter(scope__startswith="code_failures").exists()


def test_five_wrong_codes_for_one_case_number_block_it_with_429(client, filed):
    case, code = filed
    for i in range(5):
        ip = Client(REMOTE_ADDR=f"10.0.0.{i + 1}")  # spread over addresses: the per-number limit still holds
        assert follow_up_login(ip, case.number, f"1111{i}-00000-00000-00000-00000").status_code == 403
    response = follow_up_login(client, case.number, code)  # even the right code waits now
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "分钟" in response.content.decode() or "minutes" in response.content.decode()


def test_twenty_wrong_codes_from_one_address_block_it_for_any_case(client, filed, submit, settings):
    settings.QINGFENG_PORTAL_THROTTLES = {"code_failures_ip": (3, 3600)}
    case, _code = filed
    other = submit()
    for i in range(3):
        follow_up_login(client, case.number, f"2222{i}-00000-00000-00000-00000")
    response = follow_up_login(client, other.case_number, other.code)
    assert response.status_code == 429
    assert follow_up_login(Client(REMOTE_ADDR="10.9.9.9"), other.case_number, other.code).status_code == 302


def test_the_follow_up_session_expires(reporter, settings, monkeypatch):
    monkeypatch.setattr(views, "session_seconds", lambda: -1)
    response = reporter.get(CASE_URL)
    assert response.status_code == 302 and response["Location"] == reverse("portal:follow-up")


def test_a_tampered_session_marker_is_ignored(reporter):
    session = reporter.session
    session[views.SESSION_KEY] = signing.dumps({"r": 999, "c": 999}, salt="another-salt")
    session.save()
    assert reporter.get(CASE_URL).status_code == 302


def test_leaving_ends_the_follow_up_session(reporter):
    reporter.post(reverse("portal:follow-up-leave"))
    assert reporter.get(CASE_URL).status_code == 302


def test_the_reporter_sends_a_message_and_the_holding_office_is_notified(reporter, filed, tree):
    case, _code = filed
    response = reporter.post(reverse("portal:follow-up-message"), {"body": "我还有一段录音可以提供。"})
    assert response.status_code == 302
    message = CaseMessage.objects.get()
    assert message.direction == "from_reporter" and message.office == tree["county"] and message.author is None
    note = Notification.objects.filter(kind="event", case=case).get()
    assert note.office == tree["county"] and case.number in note.message
    assert "我还有一段录音" in reporter.get(CASE_URL).content.decode()


def test_an_empty_message_is_refused(reporter):
    response = reporter.post(reverse("portal:follow-up-message"), {"body": "  "})
    assert response.status_code == 422
    assert CaseMessage.objects.count() == 0


def test_the_office_reply_reaches_the_reporter_and_is_marked_read(reporter, filed, staff):
    case, _code = filed
    reporter.post(reverse("portal:follow-up-message"), {"body": "请问进展如何？"})
    services.office_message_send(case_number=case.number, user=staff("county"), body="您反映的问题已受理，正在核实。")
    assert CaseMessage.objects.get(direction="from_reporter").read_at is not None  # replying reads it
    html = reporter.get(CASE_URL).content.decode()
    assert "您反映的问题已受理" in html
    assert CaseMessage.objects.get(direction="from_office").read_at is not None


def test_messages_are_limited_per_case(reporter, settings):
    settings.QINGFENG_PORTAL_THROTTLES = {"reporter_posts_case": (2, 3600)}
    for i in range(2):
        assert reporter.post(reverse("portal:follow-up-message"), {"body": f"第{i}条"}).status_code == 302
    response = reporter.post(reverse("portal:follow-up-message"), {"body": "第3条"})
    assert response.status_code == 429
    assert "第3条" in response.content.decode()  # kept for a later try


def test_the_reporter_adds_information_and_files(reporter, filed):
    case, _code = filed
    upload = SimpleUploadedFile("补充材料.pdf", PDF, content_type="application/pdf")
    response = reporter.post(
        reverse("portal:follow-up-information"), {"text": "补充：转账记录见附件。", "attachments": upload}
    )
    assert response.status_code == 302
    att = Attachment.objects.get(case=case)
    assert att.original_name == "补充材料.pdf" and att.uploaded_by is None
    event = CaseEvent.objects.get(case=case, action="reporter_added_information")
    assert event.actor is None and event.office == case.holding_office
    assert event.from_status == event.to_status == "received"
    assert event.reason == "补充：转账记录见附件。" and event.data["attachments"] == [att.pk]
    assert Case.objects.get(pk=case.pk).status == "received"
    assert "补充：转账记录" in reporter.get(CASE_URL).content.decode()


def test_added_files_go_through_the_same_checks(reporter, filed, settings):
    bad = SimpleUploadedFile("a.exe", b"MZ\x90\x00" * 40, content_type="application/pdf")
    response = reporter.post(reverse("portal:follow-up-information"), {"attachments": bad})
    assert response.status_code == 422
    settings.ATTACHMENT_MAX_BYTES = 10
    settings.QINGFENG_PORTAL_MAX_REQUEST_BYTES = 1_000_000
    big = SimpleUploadedFile("b.pdf", PDF, content_type="application/pdf")
    response = reporter.post(reverse("portal:follow-up-information"), {"attachments": big})
    assert response.status_code == 413
    assert Attachment.objects.count() == 0


def test_nothing_to_add_is_refused(reporter):
    assert reporter.post(reverse("portal:follow-up-information"), {"text": ""}).status_code == 422


def test_the_result_and_feedback_are_shown_after_conclusion(reporter, filed, conclude, step):
    case, _code = filed
    conclude(case)
    html = reporter.get(CASE_URL).content.decode()
    assert 'data-status="concluded"' in html and "反映问题属实" in html
    step(case, "feed_back", reason="经核实，您反映的问题属实，相关人员已受到处理。感谢您的监督。")
    html = reporter.get(CASE_URL).content.decode()
    assert 'data-testid="feedback"' in html and "感谢您的监督" in html
    assert 'data-testid="return-visit-form"' in html


def test_the_return_visit_is_answered_once_and_recorded_on_the_case(reporter, filed, conclude):
    case, _code = filed
    conclude(case)
    url = reverse("portal:follow-up-return-visit")
    response = reporter.post(url, {"problem_solved": "yes", "satisfaction": "4", "comment": "处理及时"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.problem_solved is True and case.satisfaction == 4
    event = CaseEvent.objects.get(case=case, action="reporter_return_visit")
    assert event.data["satisfaction"] == 4 and event.actor is None and event.reason == "处理及时"
    again = reporter.post(url, {"problem_solved": "no", "satisfaction": "1"})
    assert again.status_code == 409
    case.refresh_from_db()
    assert case.satisfaction == 4
    assert 'data-testid="return-visit-done"' in reporter.get(CASE_URL).content.decode()


def test_the_return_visit_can_be_answered_again_after_the_office_reopens(reporter, filed, conclude, step):
    case, _code = filed
    conclude(case)
    url = reverse("portal:follow-up-return-visit")
    reporter.post(url, {"problem_solved": "no", "satisfaction": "2"})
    step(case, "reopen", reason="反映人提供新证据")
    assert reporter.post(url, {"problem_solved": "no", "satisfaction": "2"}).status_code == 409  # not concluded
    step(case, "dispose", way="verification")
    step(case, "conclude", substantiation="substantiated", conclusion="再次核实后结论")
    assert reporter.post(url, {"problem_solved": "yes", "satisfaction": "5"}).status_code == 302
    case.refresh_from_db()
    assert case.satisfaction == 5


def test_the_return_visit_is_not_offered_before_conclusion(reporter):
    html = reporter.get(CASE_URL).content.decode()
    assert 'data-testid="return-visit-form"' not in html
    response = reporter.post(reverse("portal:follow-up-return-visit"), {"problem_solved": "yes", "satisfaction": "5"})
    assert response.status_code == 409


def test_the_return_visit_needs_both_answers(reporter, filed, conclude):
    conclude(filed[0])
    response = reporter.post(reverse("portal:follow-up-return-visit"), {"problem_solved": "yes"})
    assert response.status_code == 422


def test_a_report_not_accepted_says_where_to_go(reporter, filed, step):
    case, _code = filed
    step(case, "not_accept", reason="属于民事纠纷", not_accepted_reason="litigation")
    html = reporter.get(CASE_URL).content.decode()
    assert 'data-status="not_accepted"' in html and 'data-testid="not-accepted-advice"' in html
    assert "属于民事纠纷" not in html  # the office's internal reason stays internal


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        ([], "received"),
        ([("screen", {})], "received"),
        ([("accept", {})], "accepted"),
        ([("accept", {}), ("dispose", {"way": "shelved"})], "handling"),
        ([("accept", {}), ("dispose", {"way": "inquiry"})], "handling"),
    ],
)
def test_internal_states_are_shown_as_a_few_plain_steps(filed, step, actions, expected):
    from qingfeng.portal.selectors import public_status

    case, _code = filed
    for action, params in actions:
        step(case, action, **params)
    case.refresh_from_db()
    assert public_status(case).key == expected


def test_a_revoked_code_ends_the_follow_up_session(reporter, filed, staff):
    case, _code = filed
    services.receipt_issue(case_number=case.number, user=staff("county"))
    assert reporter.get(CASE_URL).status_code == 302


def test_stale_kept_codes_are_erased_by_the_cleanup(submit):
    from django.core.management import call_command

    from qingfeng.portal.models import PortalSubmission

    submit()
    PortalSubmission.objects.update(code_expires_at=timezone.now() - timezone.timedelta(minutes=1))
    call_command("portal_cleanup")
    assert PortalSubmission.objects.get().code_ciphertext == ""

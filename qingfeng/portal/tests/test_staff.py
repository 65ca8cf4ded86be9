from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse

from qingfeng.accounts.models import Role
from qingfeng.cases.models import Case, CaseEvent
from qingfeng.intake.services import ReporterInput
from qingfeng.portal import services
from qingfeng.portal.models import CaseMessage, ReceiptCode
from qingfeng.portal.tests.conftest import follow_up_login

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\d{5}-\d{5}-\d{5}-\d{5}-\d{5}")


@pytest.fixture
def phone_case(register) -> Case:
    """A real-name phone report registered by the county's clerk."""
    return register(
        "county", channel="phone", reporter=ReporterInput(anonymous=False, name="王五", phone="13900001111")
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def issue(client: Client, number: str):
    return client.post(reverse("portal:staff-receipt", args=[number]))


def test_an_intake_clerk_of_the_holding_office_prints_a_slip_with_a_working_code(phone_case, make_user, tree):
    clerk = make_user(tree["county"], Role.INTAKE_CLERK)
    response = issue(signed_in(clerk), phone_case.number)
    assert response.status_code == 200
    html = response.content.decode()
    code = CODE.search(html).group(0)
    assert phone_case.number in html and "/portal/follow-up/" in html
    assert "王五" not in html and "13900001111" not in html and phone_case.title not in html  # no identity
    assert "no-store" in response["Cache-Control"]
    receipt = ReceiptCode.objects.get(case=phone_case)
    assert receipt.origin == "staff" and receipt.issued_by == clerk
    event = CaseEvent.objects.get(case=phone_case, action="receipt_code_issued")
    assert event.actor == clerk and event.data == {"reissued": False}
    # The reporter can now follow the case up.
    assert follow_up_login(Client(), phone_case.number, code).status_code == 302


def test_reissuing_invalidates_the_old_code(phone_case, make_user, tree):
    head = signed_in(make_user(tree["county"], Role.PETITION_HEAD))
    old = CODE.search(issue(head, phone_case.number).content.decode()).group(0)
    new = CODE.search(issue(head, phone_case.number).content.decode()).group(0)
    assert old != new
    assert ReceiptCode.objects.filter(case=phone_case, revoked_at__isnull=True).count() == 1
    assert ReceiptCode.objects.filter(case=phone_case).count() == 2
    assert follow_up_login(Client(), phone_case.number, old).status_code == 403
    assert follow_up_login(Client(), phone_case.number, new).status_code == 302


def test_a_handler_may_not_issue_a_code(phone_case, make_user, tree):
    handler = make_user(tree["county"], Role.HANDLER, Role.DEPARTMENT_HEAD)
    assert issue(signed_in(handler), phone_case.number).status_code == 403
    assert not ReceiptCode.objects.exists()


def test_an_office_that_does_not_hold_the_case_may_not_issue_a_code(phone_case, make_user, tree, step):
    # The city office can read cases it sent down, but only the holding office acts.
    city_clerk = make_user(tree["city"], Role.INTAKE_CLERK, Role.PETITION_HEAD)
    assert issue(signed_in(city_clerk), phone_case.number).status_code == 404  # it never held this one
    other = make_user(tree["sibling"], Role.INTAKE_CLERK)
    assert issue(signed_in(other), phone_case.number).status_code == 404
    step(phone_case, "send_up", reason="涉及本级领导")
    county_clerk = make_user(tree["county"], Role.INTAKE_CLERK)
    assert issue(signed_in(county_clerk), phone_case.number).status_code == 403  # sent up: read-only now
    assert issue(signed_in(city_clerk), phone_case.number).status_code == 200


def test_issuing_needs_a_signed_in_user_and_a_post(phone_case, make_user, tree):
    response = Client().post(reverse("portal:staff-receipt", args=[phone_case.number]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    clerk = signed_in(make_user(tree["county"], Role.INTAKE_CLERK))
    assert clerk.get(reverse("portal:staff-receipt", args=[phone_case.number])).status_code == 405


def test_the_panel_shows_messages_and_offers_the_holding_office_a_reply(submit, make_user, tree):
    receipt = submit()
    case = Case.objects.get(number=receipt.case_number)
    services.reporter_message_send(case=case, body="请尽快处理。")
    clerk = make_user(tree["county"], Role.INTAKE_CLERK)
    page = signed_in(clerk).get(reverse("portal:staff-case", args=[case.number]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="portal-panel"' in html and "请尽快处理" in html
    assert 'data-testid="portal-unread"' in html and 'data-testid="portal-reply-form"' in html
    assert 'data-testid="portal-issue-form"' in html


def test_the_panel_hides_messages_from_an_office_that_only_supervises(submit, make_user, tree, staff):
    receipt = submit(region_code="1101")  # the city office receives it
    case = Case.objects.get(number=receipt.case_number)
    services.reporter_message_send(case=case, body="机密内容")
    from qingfeng.cases.services import case_transition

    case_transition(
        case_number=case.number,
        action="transfer_down",
        actor=staff("city"),
        reason="属地管理",
        params={"target_office": "110101"},
    )
    case.refresh_from_db()
    city_user = make_user(tree["city"], Role.INTAKE_CLERK)
    request = RequestFactory().get("/")
    request.user = city_user
    html = Template('{% include "portal/_staff_case_panel.html" with case=case %}').render(
        Context({"case": case, "request": request})
    )
    assert 'data-testid="portal-not-held"' in html and "机密内容" not in html
    assert 'data-testid="portal-issue-form"' not in html


def test_an_office_reply_through_the_panel_form(submit, make_user, tree):
    receipt = submit()
    case = Case.objects.get(number=receipt.case_number)
    handler = make_user(tree["county"], Role.HANDLER)
    client = signed_in(handler)
    response = client.post(reverse("portal:staff-reply", args=[case.number]), {"body": "已收到，正在核查。"})
    assert response.status_code == 302
    message = CaseMessage.objects.get()
    assert message.direction == "from_office" and message.author == handler
    assert CaseEvent.objects.filter(case=case, action="office_message_to_reporter", actor=handler).exists()


def test_a_reply_needs_the_holding_office(submit, make_user, tree):
    receipt = submit()
    other = signed_in(make_user(tree["sibling"], Role.HANDLER))
    response = other.post(reverse("portal:staff-reply", args=[receipt.case_number]), {"body": "x"})
    assert response.status_code == 404
    analyst = signed_in(make_user(tree["county"], Role.ANALYST))
    response = analyst.post(reverse("portal:staff-reply", args=[receipt.case_number]), {"body": "x"})
    assert response.status_code == 403
    assert not CaseMessage.objects.exists()


def test_the_office_marks_the_reporters_messages_read(submit, make_user, tree):
    receipt = submit()
    case = Case.objects.get(number=receipt.case_number)
    services.reporter_message_send(case=case, body="一")
    client = signed_in(make_user(tree["county"], Role.INTAKE_CLERK))
    response = client.post(reverse("portal:staff-mark-read", args=[case.number]), {"next": "http://evil.example/"})
    assert response.status_code == 302 and response["Location"].startswith("/portal/staff/cases/")
    assert CaseMessage.objects.get().read_at is not None

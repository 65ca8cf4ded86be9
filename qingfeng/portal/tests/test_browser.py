"""The public portal in a real browser: Debian's Chromium driven by Playwright against the live server.

An anonymous report through the form (region lists filled by script), the receipt, follow-up with
the code, a message exchange with the office, and the return-visit answer after conclusion.
Screenshots go to test-artifacts/screenshots/portal-*.png (ignored by git); the folder is printed.
Run alone with `pytest --ds=qingfeng.portal.test_settings_local qingfeng/portal -m browser`.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from qingfeng.cases.models import Case
from qingfeng.portal import services
from qingfeng.web.tests import browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_report_screenshots"),
]


def shoot(page: Any, name: str) -> None:
    browser.shoot(page, f"portal-{name}")


def test_an_anonymous_reporter_files_follows_up_exchanges_messages_and_answers_the_return_visit(page, tree, staff):
    page.goto(page.base + "/portal/")
    assert page.locator('[data-testid="guidance"]').is_visible()
    assert page.locator('[data-testid="main-nav"]').count() == 0  # no staff navigation
    # The real-name fields show only once a real-name report is chosen.
    assert not page.locator("#id_name").is_visible()
    page.check('input[name="anonymous"][value="real_name"]')
    assert page.locator("#id_name").is_visible()
    page.check('input[name="anonymous"][value="anonymous"]')
    assert not page.locator("#id_name").is_visible()
    # Sending with the title missing keeps everything typed and says what to fix.
    page.fill("#id_description", "2026年春节期间，某镇镇长李四多次收受辖区企业所送礼金共计两万元。")
    page.fill("#id_party_name", "李四")
    page.select_option("#id_region_province", "11")
    page.click('[data-testid="report-submit"]')
    page.locator('[data-testid="form-banner"]').wait_for()
    assert page.locator('[data-testid="error-title"]').is_visible()
    assert page.locator("#id_party_name").input_value() == "李四"
    assert page.locator("#id_region_province").input_value() == "11"
    shoot(page, "report-errors")
    page.fill("#id_title", "反映某镇镇长违规收受礼金")
    page.fill("#id_description", "2026年春节期间，某镇镇长李四多次收受辖区企业所送礼金共计两万元。")
    page.fill("#id_party_name", "李四")
    page.fill("#id_party_post", "镇长")
    # Province -> city -> county, each list filled by the script from the JSON endpoint.
    page.select_option("#id_region_province", "11")
    page.locator('#id_region_city option[value="1101"]').wait_for(state="attached")
    page.select_option("#id_region_city", "1101")
    page.locator('#id_region_county option[value="110101"]').wait_for(state="attached")
    page.select_option("#id_region_county", "110101")
    page.set_input_files(
        "#id_attachments",
        files=[{"name": "证据.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}],
    )
    shoot(page, "report")
    page.click('[data-testid="report-submit"]')
    page.locator('[data-testid="receipt"]').wait_for()
    number = page.locator('[data-testid="receipt-number"]').inner_text().strip()
    code = page.locator('[data-testid="receipt-code"]').inner_text().strip()
    assert re.fullmatch(r"110101-\d{4}-\d{6}", number)
    assert re.fullmatch(r"\d{5}(-\d{5}){4}", code)
    assert page.locator('[data-testid="receipt-warning"]').is_visible()
    shoot(page, "receipt")
    case = Case.objects.get(number=number)
    assert case.channel == "online" and case.attachments.count() == 1

    # Follow up with a wrong code, then the right one.
    page.goto(page.base + "/portal/follow-up/")
    page.fill("#id_case_number", number)
    page.fill("#id_receipt_code", "00000-00000-00000-00000-00000")
    page.click('[data-testid="follow-up-submit"]')
    page.locator('[data-testid="follow-up-error"]').wait_for()
    page.fill("#id_receipt_code", code.replace("-", " "))
    page.click('[data-testid="follow-up-submit"]')
    page.locator('[data-testid="status"]').wait_for()
    assert page.locator('[data-testid="status"]').get_attribute("data-status") == "received"
    assert page.locator('[data-testid="status-label"]').inner_text() == "已接收"

    # A message to the office, and the office's reply.
    page.fill("#id_body", "我还可以提供收受礼金的录音。")
    page.click('[data-testid="message-submit"]')
    page.locator('[data-testid="message"]').first.wait_for()
    services.office_message_send(case_number=number, user=staff("county"), body="已收到，请通过补充材料上传录音。")
    page.reload()
    messages = page.locator('[data-testid="message"]')
    assert messages.count() == 2
    assert messages.nth(1).get_attribute("data-direction") == "from_office"
    assert "补充材料" in messages.nth(1).inner_text()
    shoot(page, "case-messages")

    # The office concludes the case; the reporter reads the result and answers the return visit.
    from qingfeng.cases.services import case_transition

    clerk = staff("county")
    case_transition(case_number=number, action="accept", actor=clerk)
    case_transition(case_number=number, action="dispose", actor=clerk, params={"way": "verification"})
    case_transition(
        case_number=number,
        action="conclude",
        actor=clerk,
        params={"substantiation": "substantiated", "conclusion": "经初步核实，反映问题属实，已给予党内警告处分。"},
    )
    page.reload()
    assert page.locator('[data-testid="status"]').get_attribute("data-status") == "concluded"
    assert "党内警告" in page.locator('[data-testid="conclusion"]').inner_text()
    page.check('input[name="problem_solved"][value="yes"]')
    page.check('input[name="satisfaction"][value="5"]')
    page.fill("#id_comment", "处理及时，谢谢。")
    shoot(page, "return-visit")
    page.click('[data-testid="return-visit-submit"]')
    page.locator('[data-testid="return-visit-done"]').wait_for()
    case.refresh_from_db()
    assert case.problem_solved is True and case.satisfaction == 5
    shoot(page, "concluded")

    # The language switch turns the page into English.
    page.select_option('[data-testid="portal-language-select"]', "en")
    page.wait_for_load_state("load")
    page.locator('[data-testid="status-label"]').wait_for()
    assert page.locator('[data-testid="status-label"]').inner_text() == "Concluded"


def test_a_real_name_reporters_identity_is_hidden_from_a_sibling_office_and_from_an_analyst(page, tree, make_user):
    from qingfeng.accounts.models import Role
    from qingfeng.protection.models import AuditEntry
    from qingfeng.web.tests.browser import sign_in

    name, phone = "欧阳明远", "13987654321"
    page.goto(page.base + "/portal/")
    page.check('input[name="anonymous"][value="real_name"]')
    page.fill("#id_name", name)
    page.fill("#id_phone", phone)
    page.fill("#id_title", "反映某街道办违规发放补贴")
    page.fill("#id_description", "2026年以来，某街道办将低保补贴发放给不符合条件的工作人员亲属，群众意见很大。")
    page.fill("#id_party_name", "某街道办事处")
    page.select_option("#id_region_province", "11")
    page.locator('#id_region_city option[value="1101"]').wait_for(state="attached")
    page.select_option("#id_region_city", "1101")
    page.locator('#id_region_county option[value="110101"]').wait_for(state="attached")
    page.select_option("#id_region_county", "110101")
    page.click('[data-testid="report-submit"]')
    page.locator('[data-testid="receipt"]').wait_for()
    number = page.locator('[data-testid="receipt-number"]').inner_text().strip()
    assert Case.objects.get(number=number).holding_office == tree["county"]

    make_user(tree["county"], Role.HANDLER, username="county_handler")
    make_user(tree["sibling"], Role.INTAKE_CLERK, Role.HANDLER, Role.LEADER, username="sibling_staff")
    make_user(tree["county"], Role.ANALYST, username="county_analyst")
    make_user(tree["city"], Role.ANALYST, username="city_analyst")

    def sees_identity(html: str) -> bool:
        return name in html or phone in html

    # The holding office's handler sees the identity, and that view is audited.
    views = AuditEntry.objects.filter(action="identity_view", case_number=number).count()
    sign_in(page, "county_handler")
    page.goto(f"{page.base}/cases/{number}/")
    assert page.locator('[data-testid="reporter-identity"]').is_visible()
    assert sees_identity(page.content())
    assert AuditEntry.objects.filter(action="identity_view", case_number=number).count() == views + 1
    shoot(page, "identity-holding-office")
    page.context.clear_cookies()

    # A sibling county: the case does not exist for it, in its list or by its number.
    sign_in(page, "sibling_staff")
    page.goto(f"{page.base}/cases/?q=补贴")
    assert number not in page.content() and not sees_identity(page.content())
    response = page.goto(f"{page.base}/cases/{number}/")
    assert response is not None and response.status == 404
    assert not sees_identity(page.content())
    shoot(page, "identity-sibling-office")
    page.context.clear_cookies()

    # An analyst of the holding office reads the case but never the identity; nor do dashboards.
    sign_in(page, "county_analyst")
    page.goto(f"{page.base}/cases/{number}/")
    assert page.locator('[data-testid="reporter-protected"]').is_visible()
    assert page.locator('[data-testid="reporter-identity"]').count() == 0
    assert not sees_identity(page.content())
    shoot(page, "identity-analyst")
    page.context.clear_cookies()
    sign_in(page, "city_analyst")
    page.goto(f"{page.base}/analytics/")
    page.wait_for_load_state("load")
    assert not sees_identity(page.content())
    assert AuditEntry.objects.filter(action="identity_view", case_number=number).count() == views + 1

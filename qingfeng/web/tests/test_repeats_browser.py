"""In a real browser: the registration form's repeat check (htmx, in place) and linking from the case page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from qingfeng.accounts.models import Role
from qingfeng.cases.models import Case
from qingfeng.intake.services import ReporterInput
from qingfeng.web.tests.browser import shoot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_report_screenshots"),
]

TITLE = "反映某镇镇长违规收受礼金"
BODY = "2026年春节期间，某镇镇长李四收受辖区企业礼金两万元。"


def test_a_clerk_checks_registers_and_links_the_repeat(page, make_user, tree, register):
    earlier = register("county", title=TITLE, description=BODY + "请纪委调查。", reporter=ReporterInput(anonymous=True))
    make_user(tree["county"], Role.INTAKE_CLERK, Role.PETITION_HEAD, username="clerk")
    sign_in(page, "clerk")
    page.locator('[data-testid="home-office"]').wait_for()
    page.goto(page.base + "/cases/new/")
    page.fill("#id_title", TITLE)
    page.fill("#id_description", BODY)
    page.fill("#id_region_code", "110101")
    # No channel chosen yet: the check still runs, in place, keeping what was typed.
    page.click('[data-testid="check-repeats"]')
    candidate = page.locator('[data-testid="repeat-candidate"]')
    expect(candidate).to_have_count(1)
    assert page.url.endswith("/cases/new/")
    assert candidate.get_attribute("data-number") == earlier.number
    assert page.locator("#id_title").input_value() == TITLE
    assert page.locator('[data-testid="repeat-flag"]').is_visible()
    shoot(page, "register-repeat-check")
    page.check('input[name="channel"][value="letter"]')
    page.click('[data-testid="register-submit"]')
    page.wait_for_url(re.compile(r"/cases/110101-\d{4}-\d{6}/$"))
    new_number = page.url.rstrip("/").rsplit("/", 1)[1]
    panel = page.locator('[data-testid="case-repeats"]')
    expect(panel).to_be_visible()
    assert panel.locator('[data-testid="repeat-candidate"]').get_attribute("data-number") == earlier.number
    shoot(page, "case-repeat-panel")
    panel.locator('[data-testid="link-repeat"]').click()
    expect(page.locator('[data-testid="case-status"]')).to_have_attribute("data-status", "repeat")
    case = Case.objects.get(number=new_number)
    assert case.is_repeat and case.repeat_of_id == earlier.pk

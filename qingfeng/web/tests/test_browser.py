"""Smoke tests in a real browser: Debian's Chromium driven by Playwright against the live server.

Screenshots of the home, list and case pages go to test-artifacts/screenshots/ (ignored by git);
the folder is printed at the end. Run alone with `pytest -m browser`.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from qingfeng.accounts.models import Role
from qingfeng.web.tests.browser import shoot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_report_screenshots"),
]


def test_signing_in_with_a_bad_password_shows_the_error(page, make_user, tree):
    make_user(tree["county"], Role.INTAKE_CLERK, username="wang")
    sign_in(page, "wang", "not-the-password")
    error = page.locator('[data-testid="login-error"]')
    error.wait_for()
    assert "用户名" in error.inner_text() or "username" in error.inner_text()
    assert page.url.endswith("/accounts/login/")
    sign_in(page, "wang")
    page.locator('[data-testid="home-office"]').wait_for()
    assert "东城区纪委监委" in page.locator('[data-testid="home-office"]').inner_text()


def test_a_clerk_registers_a_phone_report_with_one_reported_party(page, make_user, tree):
    make_user(tree["county"], Role.INTAKE_CLERK, Role.PETITION_HEAD, username="clerk")
    sign_in(page, "clerk")
    page.locator('[data-testid="home-office"]').wait_for()
    page.click('[data-testid="nav-register"]')
    form = page.locator('[data-testid="register-form"]')
    form.wait_for()
    # The group-visit fields show only for visits.
    page.check('input[name="channel"][value="visit"]')
    assert page.locator('[data-testid="group-visit"]').is_visible()
    page.check('input[name="channel"][value="phone"]')
    assert not page.locator('[data-testid="group-visit"]').is_visible()
    page.fill("#id_title", "反映某镇镇长违规收受礼金")
    page.fill("#id_description", "2026年春节期间，某镇镇长李四收受辖区企业礼金两万元。")
    page.fill("#id_region_code", "110101")
    page.check('input[name="categories"][value="integrity.gifts"]')
    page.check('input[name="reporter-anonymous"][value="false"]')
    page.fill("#id_reporter-name", "张三")
    page.fill("#id_reporter-phone", "13800138000")
    page.fill("#id_parties-0-name", "李四")
    page.fill("#id_parties-0-post", "镇长")
    # Add a second row with the small formset script, then remove it again.
    page.click('[data-testid="add-party"]')
    page.locator("#id_parties-1-name").wait_for()
    assert page.locator('input[name="parties-TOTAL_FORMS"]').input_value() == "2"
    page.locator('[data-testid="party-row"]').nth(1).locator('[data-testid="party-remove-button"]').click()
    assert not page.locator("#id_parties-1-name").is_visible()
    shoot(page, "register")
    page.click('[data-testid="register-submit"]')
    page.wait_for_url(re.compile(r"/cases/110101-\d{4}-\d{6}/$"))
    assert page.locator('[data-testid="case-status"]').inner_text() == "已接收"
    parties = page.locator('[data-testid="party"]')
    assert parties.count() == 1 and "李四" in parties.first.inner_text()
    assert page.locator('[data-testid="action-screen"]').is_visible()
    shoot(page, "case")


def test_the_case_list_filter_updates_the_table(page, make_user, tree, register):
    make_user(tree["county"], Role.INTAKE_CLERK, username="clerk")
    letter = register("county", channel="letter", title="来信反映违规吃喝", description="某局长违规吃喝。")
    phone = register("county", channel="phone", title="来电反映扶贫资金", description="挪用扶贫资金。")
    sign_in(page, "clerk")
    page.locator('[data-testid="home-office"]').wait_for()
    shoot(page, "home")
    page.goto(page.base + "/cases/")
    rows = page.locator('[data-testid="case-row"]')
    assert rows.count() == 2
    shoot(page, "list")
    page.click('[data-testid="case-filter"] summary')  # "more filters"
    page.check('input[name="channel"][value="letter"]')  # htmx swaps the results on change
    # Locator assertions, not wait_for_function: the Content-Security-Policy forbids eval in the page.
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-number") == letter.number
    assert "channel=letter" in page.url  # hx-push-url
    page.fill("#id_q", "扶贫")
    page.uncheck('input[name="channel"][value="letter"]')
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-number", phone.number)
    # Switch to English with the language switcher: the table follows.
    page.select_option('[data-testid="language-select"]', "en")
    page.wait_for_load_state("load")
    page.locator('[data-testid="case-status"]').first.wait_for()
    assert page.locator('[data-testid="case-status"]').first.inner_text() == "Received"

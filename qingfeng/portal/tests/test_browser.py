"""The public portal in a real browser: Debian's Chromium driven by Playwright against the live server.

An anonymous report through the form (region lists filled by script), the receipt, follow-up with
the code, a message exchange with the office, and the return-visit answer after conclusion.
Screenshots go to test-artifacts/screenshots/portal-*.png (ignored by git); the folder is printed.
Run alone with `pytest --ds=qingfeng.portal.test_settings_local qingfeng/portal -m browser`.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from qingfeng.cases.models import Case
from qingfeng.portal import services

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
_shots: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _report_screenshots(request: Any) -> Iterator[None]:
    yield
    if not _shots or sys.__stdout__ is None:
        return
    message = f"\nPortal screenshots in {SCREENSHOTS}: {', '.join(p.name for p in _shots)}\n"
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            sys.__stdout__.write(message)
            sys.__stdout__.flush()
    else:
        sys.__stdout__.write(message)


@pytest.fixture
def code_lists(transactional_db: Any) -> None:
    """The holidays and code lists the migrations seed (a transactional test's flush empties them)."""
    from django.apps import apps

    for module in (
        "qingfeng.cases.migrations.0003_default_categories_tags",
        "qingfeng.deadlines.migrations.0002_load_cn_holidays",
    ):
        importlib.import_module(module).load(apps, None)


@pytest.fixture
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
        connections.close_all()


@pytest.fixture
def server_url(request: Any, settings: Any) -> str:
    settings.MEDIA_URL = "/__live-server-media-not-linked__/"  # see web/tests/test_browser.py
    return str(request.getfixturevalue("live_server").url)


@pytest.fixture
def page(chromium: Any, server_url: str) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.base = server_url
    yield pg
    context.close()


def shoot(page: Any, name: str) -> None:
    page.wait_for_load_state("load")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"portal-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    _shots.append(path)


def test_an_anonymous_reporter_files_follows_up_exchanges_messages_and_answers_the_return_visit(
    page, tree, staff, code_lists
):
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

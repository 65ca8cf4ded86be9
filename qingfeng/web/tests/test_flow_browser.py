"""The whole life of a case in a real browser, once in Chinese and once in English.

A city clerk registers a phone report and the city transfers it to the county (the city keeps
sight of it, which is what lets it supervise later: an office sees what it sent down, nothing
else). The county transfers it to a sub-district, which accepts and disposes of it. The city
marks it for supervision and chases it; the sub-district sees the chase on its open home page
without reloading. The sub-district concludes the case and feeds back.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from qingfeng.accounts.models import Role
from qingfeng.cases.models import Case, CaseEvent
from qingfeng.supervision.models import Chase, SupervisionMark
from qingfeng.web.tests.browser import shoot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_report_screenshots"),
]

WORK = [Role.INTAKE_CLERK, Role.PETITION_HEAD, Role.HANDLER, Role.DEPARTMENT_HEAD, Role.LEADER]
TEXT = {
    "zh-hans": {"received": "已接收", "fed_back": "已反馈", "locale": "zh-CN"},
    "en": {"received": "Received", "fed_back": "Fed back", "locale": "en-US"},
}


def new_page(chromium: Any, server_url: str, lang: str) -> Any:
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale=TEXT[lang]["locale"])
    context.set_default_timeout(15_000)
    pg = context.new_page()
    pg.base = server_url
    return pg


def choose_language(page: Any, lang: str) -> None:
    """Use the switcher in the header, as a person would."""
    if page.locator("html").get_attribute("lang") != lang:
        page.select_option('[data-testid="language-select"]', lang)
        page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == lang


def act(page: Any, action: str, reason: str = "", **fields: str) -> None:
    """Open an action's form on the case page, fill it and confirm."""
    page.click(f'[data-testid="action-{action}"]')
    form = page.locator(f"#action-{action}")
    for name, value in fields.items():
        field = form.locator(f'[name="{action}-{name}"]')
        kind = field.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind.startswith("select"):
            field.select_option(value)
        elif kind.endswith(":radio"):
            form.locator(f'[name="{action}-{name}"][value="{value}"]').check()
        else:
            field.fill(value)
    if reason:
        form.locator(f'[name="{action}-reason"]').fill(reason)
    page.click(f'[data-testid="action-{action}-submit"]')
    page.wait_for_load_state("load")


def status_of(page: Any) -> str:
    return page.locator('[data-testid="case-status"]').get_attribute("data-status")


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_case_is_carried_through_its_whole_life_and_supervised(lang, chromium, server_url, settings, tree, make_user):
    settings.SUPERVISION_POLL_SECONDS = 1
    make_user(tree["city"], *WORK, username="city")
    make_user(tree["county"], *WORK, username="county")
    make_user(tree["street"], *WORK, username="street")
    t = TEXT[lang]

    # 1. A city clerk registers a phone report.
    city = new_page(chromium, server_url, lang)
    sign_in(city, "city")
    choose_language(city, lang)
    city.click('[data-testid="nav-register"]')
    city.check('input[name="channel"][value="phone"]')
    city.fill("#id_title", "反映东华门街道某科长吃拿卡要")
    city.fill("#id_description", "2026年10月办理营业执照时，街道某科长暗示要请客送礼，否则拖延办理。")
    city.fill("#id_region_code", "110101001")
    city.check('input[name="reporter-anonymous"][value="false"]')
    city.fill("#id_reporter-name", "赵六")
    city.fill("#id_reporter-phone", "13700137000")
    city.fill("#id_parties-0-name", "钱某")
    city.fill("#id_parties-0-post", "科长")
    city.click('[data-testid="register-submit"]')
    city.wait_for_url(re.compile(r"/cases/1101-\d{4}-\d{6}/$"))
    number = city.url.rstrip("/").rsplit("/", 1)[1]
    assert city.locator('[data-testid="case-status"]').inner_text() == t["received"]
    act(city, "transfer_down", "属地管理，转区纪委监委办理", target_office="110101")
    assert Case.objects.get(number=number).holding_office == tree["county"]
    # The city keeps sight of the case but is offered no action on it.
    assert city.locator('[data-testid^="action-"]').count() == 0

    # 2. The county transfers it to the sub-district.
    county = new_page(chromium, server_url, lang)
    sign_in(county, "county")
    choose_language(county, lang)
    county.goto(f"{server_url}/cases/{number}/")
    act(county, "transfer_down", "属地管理，转街道纪工委办理", target_office="110101001")

    # 3. The sub-district accepts and disposes of it, and leaves its home page open.
    street = new_page(chromium, server_url, lang)
    sign_in(street, "street")
    choose_language(street, lang)
    street.goto(f"{server_url}/cases/{number}/")
    act(street, "accept")
    assert status_of(street) == "accepted"
    act(street, "dispose", way="verification", study_opinion="经集体研究，予以初步核实")
    assert status_of(street) == "disposed"
    shoot(street, f"flow-{lang}-case-disposed")
    street.goto(f"{server_url}/")
    panel = street.locator("#sv-home-panel")
    panel.wait_for()
    street.evaluate("window.__samePage = true")

    # 4. The city marks it for supervision and chases it.
    city.goto(f"{server_url}/supervision/")
    city.locator(f'tr[data-case="{number}"]').wait_for()
    shoot(city, f"flow-{lang}-supervision")
    city.goto(f"{server_url}/cases/{number}/")
    city.select_option("#sv-mark-form select[name=form]", "phone")
    city.fill("#sv-mark-form input[name=target_date]", (timezone.localdate() + timedelta(days=15)).isoformat())
    city.fill("#sv-mark-form textarea[name=note]", "请按期报送初核结果")
    city.click("#sv-mark-form button[type=submit]")
    city.wait_for_selector(".sv-mark >> text=请按期报送初核结果")
    city.fill("#sv-chase-form textarea[name=message]", "请三日内报告办理进展")
    city.click("#sv-chase-form button[type=submit]")
    city.wait_for_selector(".sv-chase >> text=请三日内报告办理进展")

    # 5. The sub-district's open home page shows the chase without a reload.
    panel.locator(".sv-chase >> text=请三日内报告办理进展").wait_for(timeout=15_000)
    assert street.evaluate("window.__samePage") is True
    shoot(street, f"flow-{lang}-home-chased")

    # 6. The case is concluded and fed back.
    street.goto(f"{server_url}/cases/{number}/")
    act(
        street,
        "conclude",
        substantiation="substantiated",
        conclusion="经初核属实，对钱某进行诫勉谈话",
        sanctions="诫勉谈话",
    )
    assert status_of(street) == "concluded"
    act(street, "feed_back", "已电话告知反映人办理结果")
    assert status_of(street) == "fed_back"
    assert street.locator('[data-testid="case-status"]').inner_text() == t["fed_back"]
    shoot(street, f"flow-{lang}-case-fed-back")

    case = Case.objects.get(number=number)
    actions = list(CaseEvent.objects.filter(case=case).order_by("created_at", "id").values_list("action", flat=True))
    assert actions == [
        "register",
        "transfer_down",
        "transfer_down",
        "accept",
        "dispose",
        "supervise",
        "chase",
        "conclude",
        "feed_back",
    ]
    assert SupervisionMark.objects.filter(case=case, office=tree["city"]).exists()
    assert Chase.objects.filter(case=case, office=tree["city"]).exists()
    for pg in (city, county, street):
        pg.context.close()
    connections.close_all()

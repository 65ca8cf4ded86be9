"""In Chromium: a city supervises and chases a case; the holding sub-district's open home page shows it.

Run with `pytest -m browser`. Needs Debian's Chromium at /usr/bin/chromium. Screenshots go to
test-artifacts/screenshots/ (git-ignored). Runs twice: once with htmx polling the panels (the
workspace loads it) and once with htmx blocked, so supervision/poll.js does the polling.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from qingfeng.accounts.models import Role, User
from qingfeng.cases.services import case_transition
from qingfeng.supervision.models import Chase, SupervisionMark
from qingfeng.supervision.tests.conftest import make_overdue

# Transactional: the live server reads committed rows. The root conftest reseeds the holidays and
# code lists that the flush after each transactional test empties.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "screenshots"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Override the package-wide English fixture: the browser shows the Chinese default."""
    yield


def session_context(browser: Any, live_server: Any, user: User, *, block_htmx: bool) -> Any:
    """A browser context signed in as the user: a session made by the test client, its cookie copied over."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    if block_htmx:
        context.route("**/htmx.min.js", lambda route: route.abort())
    return context


@pytest.mark.parametrize("poller", ["htmx", "poll.js"])
def test_a_chase_reaches_the_open_home_page_of_the_holding_office_without_a_reload(
    poller, live_server, chromium, settings, tree, staff, register, make_user
):
    settings.SUPERVISION_POLL_SECONDS = 1
    city = make_user(tree["city"], Role.PETITION_HEAD, Role.LEADER, username="city_head")
    street_clerk = staff("street")
    case = register("city", actor=staff("city"), title="反映某街道干部违规收受礼金")
    case_transition(
        case_number=case.number, action="transfer_down", actor=staff("city"), reason="属地管辖",
        params={"target_office": tree["county"].code},
    )  # fmt: skip
    case_transition(
        case_number=case.number, action="transfer_down", actor=staff("county"), reason="属地管辖",
        params={"target_office": tree["street"].code},
    )  # fmt: skip
    today = timezone.localdate()
    for key, days, serious in (("sibling", 9, True), ("county", 4, False), ("sibling", 2, False)):
        other = register("city", actor=staff("city"), title="反映某局违规发放津贴补贴")
        case_transition(
            case_number=other.number, action="transfer_down", actor=staff("city"), reason="属地管辖",
            params={"target_office": tree[key].code},
        )  # fmt: skip
        make_overdue(
            other,
            due=today - timedelta(days=days),
            serious_on=today - timedelta(days=1) if serious else today + timedelta(days=3),
        )
    block = poller == "poll.js"
    SHOTS.mkdir(parents=True, exist_ok=True)

    # The holding sub-district opens its home page and leaves it open.
    street_ctx = session_context(chromium, live_server, street_clerk, block_htmx=block)
    street = street_ctx.new_page()
    street.goto(f"{live_server.url}/")
    panel = street.locator("#sv-home-panel")
    panel.wait_for()
    assert "请于三日内报告办理进展" not in panel.inner_text()
    street.evaluate("window.__stillTheSamePage = true")
    if block:
        assert street.evaluate("typeof window.htmx") == "undefined"

    # The city finds the case on its sent-down list and opens it.
    city_ctx = session_context(chromium, live_server, city, block_htmx=block)
    page = city_ctx.new_page()
    page.goto(f"{live_server.url}/supervision/")
    row = page.locator(f'tr[data-case="{case.number}"]')
    row.wait_for()
    assert "东华门街道纪工委" in row.inner_text()
    page.screenshot(path=str(SHOTS / f"supervision-sent-down-{poller}.png"), full_page=True)
    page.goto(f"{live_server.url}/supervision/overdue/")
    board = page.locator("table.sv-board tbody tr")
    board.first.wait_for()
    assert [board.nth(i).get_attribute("data-office") for i in range(board.count())] == ["110102", "110101"]
    page.screenshot(path=str(SHOTS / f"supervision-overdue-board-{poller}.png"), full_page=True)

    page.goto(f"{live_server.url}/supervision/")
    row.locator("a").first.click()
    page.wait_for_selector("#sv-mark-form")

    # Mark for supervision, then chase.
    page.select_option("#sv-mark-form select[name=form]", "letter")
    page.fill("#sv-mark-form input[name=target_date]", (today + timedelta(days=10)).isoformat())
    page.fill("#sv-mark-form textarea[name=note]", "请于月底前报送核查结果")
    page.click("#sv-mark-form button[type=submit]")
    page.wait_for_selector(".sv-mark >> text=请于月底前报送核查结果")
    page.fill("#sv-chase-form textarea[name=message]", "请于三日内报告办理进展")
    page.click("#sv-chase-form button[type=submit]")
    page.wait_for_selector(".sv-chase >> text=请于三日内报告办理进展")
    assert SupervisionMark.objects.filter(case=case, office=tree["city"]).count() == 1
    page.screenshot(path=str(SHOTS / f"supervision-case-panel-{poller}.png"), full_page=True)

    # The sub-district's page, never reloaded, shows the chase and the mark within a few polls.
    panel.locator(".sv-chase >> text=请于三日内报告办理进展").wait_for(timeout=15000)
    panel.locator(".sv-mark >> text=请于月底前报送核查结果").wait_for(timeout=15000)
    assert street.evaluate("window.__stillTheSamePage") is True
    street.screenshot(path=str(SHOTS / f"supervision-home-panel-{poller}.png"), full_page=True)

    # It acknowledges the chase; the city's open case page shows it seen, again without a reload.
    page.evaluate("window.__stillTheSamePage = true")
    panel.locator(".sv-chase input[name=reply]").fill("已约谈当事人")
    panel.locator(".sv-chase button[type=submit]").click()
    street.locator("#sv-home-panel >> text=没有未阅的催办。").wait_for()
    assert Chase.objects.get(case=case).seen_by == street_clerk
    page.locator(".sv-chase >> text=已约谈当事人").wait_for(timeout=15000)
    assert page.evaluate("window.__stillTheSamePage") is True
    assert Chase.objects.filter(case=case, seen_at__isnull=False).count() == 1
    # Playwright's sync API runs this body in a greenlet with its own context, hence its own
    # database connection: close it, or PostgreSQL cannot drop the test database afterwards.
    connections.close_all()

    street_ctx.close()
    city_ctx.close()
    sys.__stdout__.write(f"\nsupervision screenshots: {SHOTS}\n")

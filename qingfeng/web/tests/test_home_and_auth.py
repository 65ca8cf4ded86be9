from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from qingfeng.accounts.models import Role
from qingfeng.cases.models import Case
from qingfeng.cases.services import case_transition
from qingfeng.notifications.models import Notification
from qingfeng.web.views import common

pytestmark = pytest.mark.django_db


def test_the_login_page_signs_a_user_in(client, make_user, tree):
    make_user(tree["county"], Role.INTAKE_CLERK, username="wang")
    r = client.get("/accounts/login/")
    assert r.status_code == 200 and 'data-testid="login-form"' in r.content.decode()
    r = client.post("/accounts/login/", {"username": "wang", "password": "pw"})
    assert r.status_code == 302 and r["Location"] == "/"


def test_bad_credentials_show_a_clear_error(client, make_user, tree):
    make_user(tree["county"], Role.INTAKE_CLERK, username="wang")
    r = client.post("/accounts/login/", {"username": "wang", "password": "wrong"}, headers={"Accept-Language": "en"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="login-error"' in html
    assert "Please enter a correct username and password" in html


def test_logout_signs_out_and_returns_to_login(browser_client, staff):
    client = browser_client(staff("county"))
    r = client.post("/accounts/logout/")
    assert r.status_code == 302 and r["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_the_home_page_needs_sign_in(client):
    r = client.get("/")
    assert r.status_code == 302 and r["Location"] == "/accounts/login/?next=/"


def test_the_home_page_shows_the_office_and_the_work_waiting(browser_client, staff, register):
    user = staff("county")
    register("county", actor=user)
    register("county", actor=user)
    screened = register("county", actor=user)
    case_transition(case_number=screened.number, action="screen", actor=user)
    html = browser_client(user).get("/").content.decode()
    assert user.office.name in html
    assert re.search(r'data-testid="work-to_screen">\s*<a[^>]*>\s*<span>[^<]*</span><span[^>]*>2<', html)
    assert re.search(r'data-testid="work-to_accept">\s*<a[^>]*>\s*<span>[^<]*</span><span[^>]*>1<', html)


def test_work_items_follow_the_users_roles(browser_client, make_user, tree):
    clerk = make_user(tree["county"], Role.INTAKE_CLERK)
    head = make_user(tree["county"], Role.DEPARTMENT_HEAD)
    clerk_html = browser_client(clerk).get("/").content.decode()
    head_html = browser_client(head).get("/").content.decode()
    assert "work-to_screen" in clerk_html and "work-to_dispose" not in clerk_html
    assert "work-to_dispose" in head_html and "work-to_screen" not in head_html
    assert "work-to_feed_back" in clerk_html and "work-return_visits" in clerk_html


def test_deadline_counts_cover_cases_held_by_the_office(browser_client, staff, register):
    user = staff("county")
    today = timezone.localdate()
    late = register("county", actor=user)
    soon = register("county", actor=user)
    elsewhere = register("sibling", actor=staff("sibling"))
    Case.objects.filter(pk__in=[late.pk, elsewhere.pk]).update(
        next_due=today - timedelta(days=1),
        next_warn_on=today - timedelta(days=3),
        next_serious_on=today + timedelta(days=5),
    )
    Case.objects.filter(pk=soon.pk).update(next_due=today + timedelta(days=1), next_warn_on=today)
    html = browser_client(user).get("/").content.decode()
    assert re.search(r'data-testid="count-overdue">\s*<span class="tile__n">1<', html)
    assert re.search(r'data-testid="count-due-soon">\s*<span class="tile__n">1<', html)
    assert re.search(r'data-testid="count-serious">\s*<span class="tile__n">0<', html)


def test_the_home_page_embeds_the_chart_data_and_loads_echarts_locally(browser_client, staff, register):
    register("county", actor=staff("county"))
    html = browser_client(staff("county"), language="en").get("/").content.decode()
    data = json.loads(re.search(r'<script id="state-chart-data" type="application/json">(.*?)</script>', html).group(1))
    assert data["labels"][0] == "Received" and data["values"][0] == 1
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert "/static/vendor/htmx/htmx.min.js" in html
    # Every script, style sheet and image comes from this server (a random CSRF token or nonce
    # may well contain "cdn", so look at the addresses, not at the page's letters).
    assets = re.findall(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]*)"', html)
    assert assets and all((a[:1] == "/" and a[:2] != "//") or a.startswith("data:") for a in assets), assets


def test_the_nav_shows_the_unread_notification_count_of_the_office(browser_client, staff, tree, make_user):
    user = staff("county")
    for i in range(3):
        Notification.objects.create(office=tree["county"], kind="new_case", message=f"m{i}")
    Notification.objects.create(office=tree["county"], kind="new_case", message="read", read_at=timezone.now())
    Notification.objects.create(office=tree["sibling"], kind="new_case", message="other office")
    colleague = make_user(tree["county"], Role.HANDLER)
    Notification.objects.create(office=tree["county"], user=colleague, kind="chase", message="for a colleague")
    Notification.objects.create(office=tree["county"], user=user, kind="chase", message="for me")
    html = browser_client(user).get("/").content.decode()
    assert re.search(r'data-testid="unread-count"[^>]*>4<', html)
    for link in ('href="/supervision/"', 'href="/supervision/notifications/"', 'href="/cases/"', 'href="/cases/new/"'):
        assert link in html
    assert 'data-testid="language-switcher"' in html and 'data-testid="logout"' in html


def test_the_unread_badge_is_hidden_when_everything_is_read(browser_client, staff):
    html = browser_client(staff("county")).get("/").content.decode()
    assert re.search(r'data-testid="unread-count"[^>]* hidden>0<', html)


@pytest.fixture
def supervision_templates(settings, tmp_path, monkeypatch):
    """Stand-ins for the supervision app's panels, in an extra template folder."""
    folder = tmp_path / "supervision"
    folder.mkdir()
    (folder / "_home_panel.html").write_text("HOME-PANEL for {{ office.code }}", encoding="utf-8")
    (folder / "_case_panel.html").write_text("CASE-PANEL for {{ case.number }}", encoding="utf-8")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    monkeypatch.setattr(common, "_template_exists", {})
    return folder


def test_the_supervision_panels_are_left_out_while_their_templates_do_not_exist(
    browser_client, staff, register, monkeypatch
):
    from qingfeng.web.views import cases, home

    monkeypatch.setattr(common, "_template_exists", {})
    monkeypatch.setattr(home, "SUPERVISION_HOME_PANEL", "supervision/_no_such_panel.html")
    monkeypatch.setattr(cases, "SUPERVISION_CASE_PANEL", "supervision/_no_such_panel.html")
    case = register("county", actor=staff("county"))
    client = browser_client(staff("county"))
    home_html = client.get("/").content.decode()
    case_html = client.get(f"/cases/{case.number}/").content.decode()
    assert re.search(r'data-testid="supervision-home-slot">\s*</section>', home_html)
    assert re.search(r'data-testid="supervision-case-slot">\s*</div>', case_html)


def test_the_supervision_panels_are_included_once_their_templates_exist(
    browser_client, staff, register, supervision_templates
):
    case = register("county", actor=staff("county"))
    client = browser_client(staff("county"))
    assert "HOME-PANEL for 110101" in client.get("/").content.decode()
    assert f"CASE-PANEL for {case.number}" in client.get(f"/cases/{case.number}/").content.decode()

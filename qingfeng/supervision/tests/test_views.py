"""The supervision pages, their polled fragments and the forms, through the test client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.template import engines
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qingfeng.accounts.models import Role
from qingfeng.cases.models import CaseEvent
from qingfeng.supervision.links import case_url
from qingfeng.supervision.models import Chase, SupervisionMark
from qingfeng.supervision.services import chase_create, mark_create
from qingfeng.supervision.tests.conftest import make_overdue

pytestmark = pytest.mark.django_db


@pytest.fixture
def login():
    def client_for(user):
        c = Client()
        c.force_login(user)
        return c

    return client_for


def test_the_sent_down_page_shows_holder_days_held_and_deadline(login, sent_case, supervisor):
    r = login(supervisor).get("/supervision/")
    assert r.status_code == 200
    html = r.content.decode()
    assert sent_case.number in html and "东华门街道纪工委" in html
    assert "0 days" in html and 'data-sv-poll="/supervision/fragments/sent-down/?' in html
    assert "poll.js" in html and 'hx-trigger="every 10s"' in html


def test_the_sent_down_page_filters_and_pages(login, register, staff, send_down, supervisor, settings):
    for _ in range(3):
        send_down(register("city", actor=staff("city")), "county", "street")
    other = send_down(register("city", actor=staff("city")), "sibling")
    c = login(supervisor)
    r = c.get("/supervision/", {"office": "110102"})
    assert other.number in r.content.decode() and r.content.decode().count('class="sv-row') == 1
    r = c.get("/supervision/", {"office": "110102001"})  # not an office below: the filter is ignored
    assert r.content.decode().count('class="sv-row') == 4
    from qingfeng.supervision import views

    views.PAGE_SIZE, saved = 2, views.PAGE_SIZE
    try:
        r = c.get("/supervision/", {"page": 2})
    finally:
        views.PAGE_SIZE = saved
    assert r.content.decode().count('class="sv-row') == 2 and "Page 2 of 2" in r.content.decode()


def test_a_sibling_county_sees_nothing_sent_down(login, sent_case, staff):
    r = login(staff("sibling")).get("/supervision/")
    assert sent_case.number not in r.content.decode()


def test_the_sent_down_page_does_a_bounded_number_of_queries(login, register, staff, send_down, supervisor, later):
    c = login(supervisor)

    def build(n):
        for _ in range(n):
            case = send_down(register("city", actor=staff("city")), "county", "street")
            mark_create(case_number=case.number, actor=supervisor, note="督办", target_date=later, form="letter")
            chase_create(case_number=case.number, actor=supervisor, message="催办")

    build(2)
    c.get("/supervision/")
    with CaptureQueriesContext(connection) as few:
        assert c.get("/supervision/").status_code == 200
    build(8)
    with CaptureQueriesContext(connection) as many:
        r = c.get("/supervision/")
    assert r.content.decode().count('class="sv-row') == 10
    assert len(many) == len(few) <= 12


def test_fragments_answer_401_without_a_session_instead_of_a_login_page(sent_case):
    for url in (
        "/supervision/fragments/sent-down/",
        "/supervision/fragments/overdue/",
        "/supervision/fragments/home-panel/",
        f"/supervision/fragments/case/{sent_case.number}/",
    ):
        assert Client().get(url).status_code == 401
    assert Client().get("/supervision/notifications/unread.json").status_code == 401
    assert Client().get("/supervision/").status_code == 302  # pages go to the login page


def test_the_city_marks_and_chases_through_the_forms(login, sent_case, supervisor, later):
    c = login(supervisor)
    r = c.post(
        f"/supervision/cases/{sent_case.number}/mark/",
        {"form": "debriefing", "target_date": later.isoformat(), "note": "请当面汇报", "next": "/supervision/"},
    )
    assert r.status_code == 302 and r["Location"] == "/supervision/"
    assert SupervisionMark.objects.get().form == "debriefing"
    r = c.post(f"/supervision/cases/{sent_case.number}/chase/", {"message": "请本周内办结"})
    assert r.status_code == 302 and r["Location"] == case_url(sent_case.number)  # the workspace's case page
    assert Chase.objects.get().message == "请本周内办结"
    page = c.get(f"/supervision/cases/{sent_case.number}/").content.decode()
    assert "The holding office has been chased." in page and "请本周内办结" in page and "请当面汇报" in page


def test_an_unsafe_next_is_ignored(login, sent_case, supervisor):
    r = login(supervisor).post(
        f"/supervision/cases/{sent_case.number}/chase/", {"message": "催办", "next": "https://evil.example/"}
    )
    assert r["Location"] == case_url(sent_case.number)


def test_form_errors_show_the_case_page_with_the_errors(login, sent_case, supervisor):
    r = login(supervisor).post(
        f"/supervision/cases/{sent_case.number}/mark/",
        {"form": "on_site", "target_date": timezone.localdate().isoformat(), "note": "请当面汇报"},
    )
    assert r.status_code == 422
    html = r.content.decode()
    assert "The target date must be in the future." in html and "请当面汇报" in html  # the note is kept
    assert not SupervisionMark.objects.exists()
    r = login(supervisor).post(f"/supervision/cases/{sent_case.number}/chase/", {"message": ""})
    assert r.status_code == 422 and not Chase.objects.exists()


def test_refusals_by_office_and_role(login, sent_case, staff, make_user, tree, later):
    data = {"form": "letter", "target_date": later.isoformat(), "note": "督办"}
    assert login(staff("sibling")).post(f"/supervision/cases/{sent_case.number}/mark/", data).status_code == 404
    r = login(staff("street")).post(f"/supervision/cases/{sent_case.number}/mark/", data)
    assert r.status_code == 403 and "Only an upper office" in r.content.decode()
    clerk = make_user(tree["city"], Role.INTAKE_CLERK)
    assert login(clerk).post(f"/supervision/cases/{sent_case.number}/chase/", {"message": "x"}).status_code == 403
    assert login(clerk).get(f"/supervision/cases/{sent_case.number}/mark/").status_code == 405
    assert not SupervisionMark.objects.exists() and not Chase.objects.exists()


def test_the_holding_office_sees_the_chase_on_its_home_panel_and_acknowledges_it(login, sent_case, supervisor, staff):
    street = login(staff("street"))
    assert "No unseen chases." in street.get("/supervision/fragments/home-panel/").content.decode()
    chase = chase_create(case_number=sent_case.number, actor=supervisor, message="该件已超期请尽快办理")
    panel = street.get("/supervision/fragments/home-panel/", HTTP_REFERER="http://testserver/").content.decode()
    assert "该件已超期请尽快办理" in panel and sent_case.number in panel
    assert f'action="/supervision/cases/{sent_case.number}/seen/{chase.pk}/"' in panel
    assert 'name="next" value="/"' in panel  # forms in a polled fragment return to the page that polls it
    r = street.post(f"/supervision/cases/{sent_case.number}/seen/{chase.pk}/", {"reply": "已约谈", "next": "/"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert Chase.objects.get().seen_at is not None
    assert "该件已超期请尽快办理" not in street.get("/supervision/fragments/home-panel/").content.decode()


def test_acknowledging_a_chase_of_another_case_is_not_found(login, register, staff, send_down, sent_case, supervisor):
    other = send_down(register("city", actor=staff("city")), "county", "street")
    chase = chase_create(case_number=other.number, actor=supervisor, message="催办")
    r = login(staff("street")).post(f"/supervision/cases/{sent_case.number}/seen/{chase.pk}/", {})
    assert r.status_code == 404


def test_the_home_panel_shows_open_marks_and_upper_counts(login, sent_case, supervisor, later):
    mark_create(case_number=sent_case.number, actor=supervisor, note="请月底前报告", target_date=later, form="phone")
    city_panel = login(supervisor).get("/supervision/fragments/home-panel/").content.decode()
    assert "under our supervision" in city_panel and "sent down" in city_panel


def test_the_holding_office_home_panel_lists_marks_on_its_cases(login, sent_case, supervisor, staff, later):
    mark_create(case_number=sent_case.number, actor=supervisor, note="请月底前报告", target_date=later, form="phone")
    html = login(staff("street")).get("/supervision/mine/").content.decode()
    assert 'id="sv-home-panel"' in html and "请月底前报告" in html and "市辖区纪委监委" in html
    assert "sent down" not in html  # a sub-district has nothing below it


def render_panel(user, case, path="/cases/x/"):
    request = RequestFactory().get(path)
    request.user = user
    template = engines["django"].from_string('{% include "supervision/_case_panel.html" %}')
    return template.render({"case": case}, request)


def test_the_case_panel_offers_the_forms_only_to_an_office_that_may_supervise(sent_case, supervisor, staff):
    chase = chase_create(case_number=sent_case.number, actor=supervisor, message="请尽快办理")
    html = render_panel(supervisor, sent_case)
    assert 'id="sv-mark-form"' in html and 'id="sv-chase-form"' in html and "请尽快办理" in html
    assert f'data-sv-poll="/supervision/fragments/case/{sent_case.number}/"' in html
    assert 'name="next" value="/cases/x/"' in html
    holder = render_panel(staff("street"), sent_case)
    assert 'id="sv-mark-form"' not in holder and "请尽快办理" in holder
    assert f"/seen/{chase.pk}/" in holder  # the holding office can acknowledge it
    assert f"/seen/{chase.pk}/" not in html


def test_the_case_fragment_is_scoped_like_the_case(login, sent_case, staff):
    assert login(staff("street")).get(f"/supervision/fragments/case/{sent_case.number}/").status_code == 200
    assert login(staff("sibling")).get(f"/supervision/fragments/case/{sent_case.number}/").status_code == 404
    assert login(staff("sibling")).get(f"/supervision/cases/{sent_case.number}/").status_code == 404


def test_the_case_fragment_shows_a_new_chase(login, sent_case, supervisor, staff):
    c = login(staff("street"))
    assert "No chases." in c.get(f"/supervision/fragments/case/{sent_case.number}/").content.decode()
    chase_create(case_number=sent_case.number, actor=supervisor, message="第二次催办")
    assert "第二次催办" in c.get(f"/supervision/fragments/case/{sent_case.number}/").content.decode()


def test_closing_a_mark_through_the_form(login, sent_case, supervisor, later):
    m = mark_create(case_number=sent_case.number, actor=supervisor, note="督办", target_date=later, form="letter")
    c = login(supervisor)
    assert f"/close/{m.pk}/" in c.get(f"/supervision/cases/{sent_case.number}/").content.decode()
    r = c.post(f"/supervision/cases/{sent_case.number}/close/{m.pk}/", {"reason": "已办结"})
    assert r.status_code == 302
    assert SupervisionMark.objects.get().close_reason == "已办结"
    assert CaseEvent.objects.filter(action="close_supervision").count() == 1
    r = c.post(f"/supervision/cases/{sent_case.number}/close/{m.pk}/", {"reason": "再关"})
    assert r.status_code == 409


def test_the_overdue_board_page_lists_lower_offices_worst_first(login, register, staff, send_down, supervisor):
    today = timezone.localdate()
    a = send_down(register("city", actor=staff("city")), "county")
    b = send_down(register("city", actor=staff("city")), "sibling")
    make_overdue(a, due=today - timedelta(days=3), serious_on=today + timedelta(days=3))
    make_overdue(b, due=today - timedelta(days=9), serious_on=today - timedelta(days=2))
    html = login(supervisor).get("/supervision/overdue/").content.decode()
    assert html.index("西城区纪委监委") < html.index("东城区纪委监委")
    assert "/supervision/?office=110102&amp;deadline=overdue" in html
    frag = login(supervisor).get("/supervision/fragments/overdue/", {"by": "holder"}).content.decode()
    assert "Holding office" in frag and "9 days late" in frag


def test_pages_need_an_office(login, make_user):
    assert login(make_user(None, Role.LEADER)).get("/supervision/").status_code == 403


def test_the_pages_speak_chinese_by_default(sent_case, supervisor, settings, login):
    settings.LANGUAGE_CODE = "zh-hans"
    from django.utils import translation

    with translation.override("zh-hans"):
        html = login(supervisor).get(f"/supervision/cases/{sent_case.number}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = html.content.decode()
    assert (
        "督办" in text
        and "催办" in text
        and "下级" in login(supervisor).get("/supervision/overdue/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    )

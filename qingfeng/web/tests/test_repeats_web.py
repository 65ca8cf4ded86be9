"""Repeat detection in the staff pages: the registration form's check and the case page's panel."""

from __future__ import annotations

import re

import pytest

from qingfeng.cases.models import Case
from qingfeng.intake.services import ReporterInput
from qingfeng.portal import services as portal
from qingfeng.repeats.vectors import vector_index
from qingfeng.web.tests.test_register import form_data

pytestmark = pytest.mark.django_db

TITLE = "反映某镇镇长违规收受礼金"
BODY = "2026年春节期间，某镇镇长李四收受辖区企业礼金两万元。"


@pytest.fixture(autouse=True)
def _fresh_vector_index() -> object:
    vector_index.reset()
    yield
    vector_index.reset()


def _candidates(html: str) -> list[str]:
    return re.findall(r'data-testid="repeat-candidate" data-number="([^"]+)"', html)


def test_the_check_button_keeps_what_was_typed_and_lists_earlier_reports(browser_client, clerk, register):
    earlier = register("county", title=TITLE, description=BODY + "请调查。")
    # Another county's report of the same matter by someone else: not shown at all.
    other = register("sibling", title=TITLE, description=BODY, reporter=ReporterInput(anonymous=True))
    Case.objects.filter(pk=earlier.pk).update(
        status="fed_back", disposal_way="verification", conclusion="基本属实，已责令退还", problem_solved=True
    )
    before = Case.objects.count()
    # No channel chosen yet: a check is not a registration attempt and complains about nothing.
    r = browser_client(clerk, language="en").post("/cases/new/", form_data(channel="", _check_repeats="1"))
    assert r.status_code == 200
    html = r.content.decode()
    assert Case.objects.count() == before
    assert _candidates(html) == [earlier.number]
    assert other.number not in html
    assert f'href="/cases/{earlier.number}/"' in html
    assert "Same matter" in html and "same place" in html
    assert "Fed back" in html and "基本属实，已责令退还" in html and "Preliminary verification" in html
    # Everything typed is still there, and no "required" error is shown.
    assert f'value="{TITLE}"' in html and BODY in html
    assert 'value="13800138000"' in html and 'value="李四"' in html and 'value="某某镇人民政府"' in html
    assert "field-errors" not in html
    # The panel sits above the register button.
    assert html.index('data-testid="repeat-panel"') < html.index('data-testid="register-submit"')


def test_the_check_in_chinese_and_with_nothing_found(browser_client, clerk):
    r = browser_client(clerk).post("/cases/new/", form_data(_check_repeats="1"))
    html = r.content.decode()
    assert 'data-testid="repeat-none"' in html and "未发现" in html
    assert "查询此前信访件" in html


def test_with_htmx_only_the_panel_is_sent(browser_client, clerk, register):
    earlier = register("county", title=TITLE, description=BODY)
    r = browser_client(clerk).post("/cases/new/", form_data(_check_repeats="1"), headers={"HX-Request": "true"})
    html = r.content.decode()
    assert r.status_code == 200
    assert html.lstrip().startswith("<div") and 'id="repeat-panel"' in html
    assert "register-form" not in html
    assert _candidates(html) == [earlier.number]


def test_a_sibling_countys_report_by_the_same_phone_is_shown_by_number_only(browser_client, clerk, register):
    theirs = register("sibling", title="另一件事", description="完全不同的内容，关于物业收费。")
    r = browser_client(clerk, language="en").post("/cases/new/", form_data(_check_repeats="1"))
    html = r.content.decode()
    assert _candidates(html) == [theirs.number]
    assert f'href="/cases/{theirs.number}/"' not in html  # not visible: no link
    assert "另一件事" not in html and 'data-restricted="true"' in html
    assert theirs.holding_office.name in html


def test_the_case_page_offers_to_link_an_earlier_report_and_the_link_marks_the_repeat(browser_client, clerk, register):
    earlier = register("county", title=TITLE, description=BODY + "请调查。")
    case = register("county", actor=clerk, title=TITLE, description=BODY)
    client = browser_client(clerk, language="en")
    html = client.get(f"/cases/{case.number}/").content.decode()
    assert "Possible earlier reports" in html
    assert _candidates(html) == [earlier.number]  # never the case itself
    assert 'data-testid="link-repeat"' in html
    r = client.post(f"/cases/{case.number}/act/mark_repeat/", {"mark_repeat-repeat_of": earlier.number})
    assert r.status_code == 302, r.content.decode()[:2000]
    case.refresh_from_db()
    assert case.is_repeat and case.repeat_of_id == earlier.pk and case.status == "repeat"
    # Decided: the panel is gone.
    assert "Possible earlier reports" not in client.get(f"/cases/{case.number}/").content.decode()


def test_the_link_form_posts_to_the_workflow_action(browser_client, clerk, register):
    earlier = register("county", title=TITLE, description=BODY + "请调查。")
    case = register("county", title=TITLE, description=BODY)
    html = browser_client(clerk).get(f"/cases/{case.number}/").content.decode()
    form = html[html.index('data-testid="link-repeat-form"') - 200 :]
    assert f'action="/cases/{case.number}/act/mark_repeat/"' in form
    assert f'name="mark_repeat-repeat_of" value="{earlier.number}"' in form


def test_a_later_case_is_not_offered_as_an_earlier_report(browser_client, clerk, register):
    case = register("county", title=TITLE, description=BODY)
    register("county", title=TITLE, description=BODY + "请调查。")
    html = browser_client(clerk).get(f"/cases/{case.number}/").content.decode()
    assert 'data-testid="case-repeats"' not in html


def test_an_analyst_sees_the_panel_without_the_link(browser_client, register, make_user, tree):
    from qingfeng.accounts.models import Role

    earlier = register("county", title=TITLE, description=BODY + "请调查。")
    case = register("county", title=TITLE, description=BODY)
    html = browser_client(make_user(tree["county"], Role.INTAKE_CLERK)).get(f"/cases/{case.number}/").content.decode()
    assert _candidates(html) == [earlier.number] and 'data-testid="link-repeat"' in html
    html = browser_client(make_user(tree["county"], Role.ANALYST)).get(f"/cases/{case.number}/").content.decode()
    assert _candidates(html) == [earlier.number] and 'data-testid="link-repeat"' not in html


def test_an_online_report_shows_its_earlier_reports_on_the_staff_page(browser_client, clerk, register):
    earlier = register("county", title=TITLE, description=BODY, reporter=ReporterInput(anonymous=True))
    receipt = portal.report_submit(
        data=portal.ReportInput(
            anonymous=True, title=TITLE, description=BODY + "至今无人处理。", region_code="110101", party_name="李四"
        ),
        token="tok-" + "r" * 28,
        via="web",
        client="127.0.0.1",
    )
    html = browser_client(clerk, language="en").get(f"/cases/{receipt.case_number}/").content.decode()
    assert "Possible earlier reports" in html
    assert _candidates(html) == [earlier.number]

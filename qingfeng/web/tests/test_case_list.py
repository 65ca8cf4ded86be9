from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qingfeng.cases.models import Case
from qingfeng.cases.services import case_transition
from qingfeng.intake.services import ReporterInput

pytestmark = pytest.mark.django_db


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content.decode()[:2000]
    return re.findall(r'data-testid="case-row" data-number="([^"]+)"', response.content.decode())


@pytest.fixture
def county_client(browser_client, staff):
    return browser_client(staff("county"))


def test_the_list_shows_only_cases_the_office_can_see(browser_client, staff, register):
    mine = register("county", actor=staff("county"))
    theirs = register("sibling", actor=staff("sibling"))
    assert numbers(browser_client(staff("county")).get("/cases/")) == [mine.number]
    assert numbers(browser_client(staff("sibling")).get("/cases/")) == [theirs.number]


def test_filter_by_state_channel_and_item_type(county_client, register, staff):
    a = register("county", channel="phone", item_type="appeal")
    b = register("county", channel="letter")
    c = register("county", channel="visit")
    case_transition(case_number=c.number, action="screen", actor=staff("county"))
    assert numbers(county_client.get("/cases/?status=screened")) == [c.number]
    assert sorted(numbers(county_client.get("/cases/?status=received"))) == sorted([a.number, b.number])
    assert numbers(county_client.get("/cases/?channel=letter")) == [b.number]
    assert sorted(numbers(county_client.get("/cases/?channel=letter&channel=visit"))) == sorted([b.number, c.number])
    assert numbers(county_client.get("/cases/?item_type=appeal")) == [a.number]


def test_filter_by_category_includes_its_subcategories(county_client, register):
    gifts = register("county", categories=["integrity.gifts"])
    register("county", categories=["duty.bribery"])
    assert numbers(county_client.get("/cases/?category=integrity")) == [gifts.number]
    assert numbers(county_client.get("/cases/?category=integrity.gifts")) == [gifts.number]


def test_filter_by_region_prefix(county_client, register):
    here = register("county", region_code="110101001")
    register("county", region_code="110102")
    assert numbers(county_client.get("/cases/?region=110101")) == [here.number]


def test_filter_by_office_in_the_subtree(browser_client, staff, register, tree):
    at_county = register("county", actor=staff("county"))
    moved = register("county", actor=staff("county"))
    case_transition(
        case_number=moved.number,
        action="transfer_down",
        actor=staff("county"),
        reason="属地",
        params={"target_office": tree["street"].code},
    )
    client = browser_client(staff("county"))
    assert numbers(client.get(f"/cases/?office={tree['street'].code}")) == [moved.number]
    assert numbers(client.get(f"/cases/?office_code={tree['street'].code}")) == [moved.number]
    assert sorted(numbers(client.get(f"/cases/?office={tree['county'].code}"))) == sorted(
        [at_county.number, moved.number]
    )
    assert numbers(client.get("/cases/?held=on")) == [at_county.number]


def test_an_office_outside_the_subtree_is_refused(county_client, register, tree):
    register("county")
    r = county_client.get(f"/cases/?office_code={tree['sibling'].code}")
    assert r.status_code == 400
    assert 'data-testid="filter-errors"' in r.content.decode()
    assert 'data-testid="case-row"' not in r.content.decode()
    assert county_client.get(f"/cases/?office={tree['city'].code}").status_code == 400


def test_the_office_select_offers_own_office_and_direct_children(county_client, tree):
    html = county_client.get("/cases/").content.decode()
    select = html.split('name="office"')[1].split("</select>")[0]
    assert f'value="{tree["county"].code}"' in select
    assert f'value="{tree["street"].code}"' in select and f'value="{tree["street2"].code}"' in select
    assert f'value="{tree["sibling"].code}"' not in select


def test_filter_by_deadline_status(county_client, register, staff):
    ok = register("county")
    late = register("county")
    none = register("county")
    case_transition(
        case_number=none.number,
        action="not_accept",
        actor=staff("county"),
        reason="诉讼",
        params={"not_accepted_reason": "litigation"},
    )
    today = timezone.localdate()
    Case.objects.filter(pk=late.pk).update(
        next_due=today - timedelta(days=3),
        next_warn_on=today - timedelta(days=5),
        next_serious_on=today + timedelta(days=4),
    )
    assert numbers(county_client.get("/cases/?deadline=overdue")) == [late.number]
    assert numbers(county_client.get("/cases/?deadline=serious")) == []
    assert numbers(county_client.get("/cases/?deadline=ok")) == [ok.number]
    assert numbers(county_client.get("/cases/?deadline=none")) == [none.number]
    Case.objects.filter(pk=ok.pk).update(next_warn_on=today, next_due=today + timedelta(days=1))
    assert numbers(county_client.get("/cases/?deadline=due_soon")) == [ok.number]


def test_filter_by_date_range(county_client, register):
    tz = timezone.get_current_timezone()
    old = register("county", received_at=datetime(2025, 3, 10, 9, 0, tzinfo=tz))
    new = register("county", received_at=datetime(2025, 6, 1, 9, 0, tzinfo=tz))
    assert numbers(county_client.get("/cases/?received_from=2025-05-01")) == [new.number]
    assert numbers(county_client.get("/cases/?received_to=2025-03-10")) == [old.number]
    r = county_client.get("/cases/?received_from=2025-06-01&received_to=2025-01-01")
    assert r.status_code == 400


def test_filter_by_real_name_and_repeat(county_client, register):
    named = register("county")
    anon = register("county", reporter=ReporterInput(anonymous=True))
    assert numbers(county_client.get("/cases/?is_real_name=true")) == [named.number]
    assert numbers(county_client.get("/cases/?is_real_name=false")) == [anon.number]
    assert numbers(county_client.get("/cases/?is_repeat=true")) == []


def test_chinese_full_text_search_matches_jieba_words(county_client, register):
    gifts = register("county", title="反映某镇镇长违规收受礼金", description="收受辖区企业礼金两万元。")
    funds = register("county", title="反映村支书挪用扶贫资金", description="挪用扶贫专项资金五万元用于建房。")
    assert numbers(county_client.get("/cases/?q=礼金")) == [gifts.number]
    assert numbers(county_client.get("/cases/?q=扶贫资金")) == [funds.number]
    assert numbers(county_client.get("/cases/?q=镇长 礼金")) == [gifts.number]
    assert numbers(county_client.get("/cases/?q=高速公路")) == []


def test_sorting_by_a_column(county_client, register):
    tz = timezone.get_current_timezone()
    first = register("county", received_at=datetime(2025, 1, 1, tzinfo=tz))
    second = register("county", received_at=datetime(2025, 2, 1, tzinfo=tz))
    assert numbers(county_client.get("/cases/")) == [second.number, first.number]
    assert numbers(county_client.get("/cases/?ordering=received_at")) == [first.number, second.number]
    html = county_client.get("/cases/?ordering=received_at").content.decode()
    assert "ordering=-received_at" in html  # the header link flips the order
    assert county_client.get("/cases/?ordering=nonsense").status_code == 400


def test_the_list_is_paged(county_client, register):
    for i in range(30):
        register("county", title=f"来信{i}")
    page1 = numbers(county_client.get("/cases/"))
    page2 = numbers(county_client.get("/cases/?page=2"))
    assert len(page1) == 25 and len(page2) == 5 and not set(page1) & set(page2)
    assert 'data-testid="page-next"' in county_client.get("/cases/").content.decode()


def test_htmx_requests_get_only_the_results_fragment(county_client, register):
    case = register("county", channel="letter")
    r = county_client.get("/cases/?channel=letter", headers={"HX-Request": "true"})
    html = r.content.decode()
    assert r.status_code == 200 and html.lstrip().startswith('<section id="case-results"')
    assert case.number in html and "<html" not in html
    assert "HX-Request" in r["Vary"]
    restore = county_client.get("/cases/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.content.decode()


def test_the_filter_form_works_without_javascript(county_client):
    html = county_client.get("/cases/").content.decode()
    form = re.search(r'<form[^>]*\bid="case-filter"[^>]*>', html).group(0)
    assert 'method="get"' in form and 'action="/cases/"' in form
    assert 'hx-get="/cases/"' in form and 'hx-push-url="true"' in form


def test_export_links_carry_the_current_filters(county_client, register):
    register("county")
    html = county_client.get("/cases/?channel=phone&q=礼金").content.decode()
    assert "/cases/export.csv?channel=phone&amp;q=" in html
    assert "/cases/export.xlsx?channel=phone&amp;q=" in html


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/cases/").status_code == 200
    return len(ctx.captured_queries)


def test_the_list_query_count_does_not_grow_with_the_number_of_cases(county_client, register):
    register("county", categories=["integrity.gifts"])
    _list_queries(county_client)
    few = _list_queries(county_client)
    for i in range(20):
        register("county", title=f"来信{i}", categories=["duty.bribery"])
    assert _list_queries(county_client) == few

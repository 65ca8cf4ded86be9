"""Standard statistics on a small known dataset, through the selectors and the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qingfeng.accounts.models import Role
from qingfeng.analytics.periods import parse_period
from qingfeng.analytics.selectors import standard_statistics
from qingfeng.analytics.tests.conftest import at
from qingfeng.intake.services import PartyInput, ReporterInput

pytestmark = pytest.mark.django_db

ZHANG = ReporterInput(anonymous=False, name="张三", phone="13800138000")
LI = ReporterInput(anonymous=False, name="李梅", phone="13700137000")
ANON = ReporterInput(anonymous=True)


@pytest.fixture
def dataset(tree, register, step, staff):
    """March 2026 at the county (and one case at the sibling), plus February and March 2025 for comparisons."""
    staff("sibling")
    a = register(
        "county",
        received_at=at("2026-03-02 09:00"),
        reporter=ZHANG,
        channel="letter",
        categories=["integrity.gifts"],
        tags=["rural"],
        parties=[PartyInput(name="李四", rank="township")],
    )
    b = register(
        "county",
        received_at=at("2026-03-03 09:00"),
        reporter=ZHANG,
        channel="phone",
        categories=["integrity.banquets"],
        parties=[PartyInput(name="王二", rank="village")],
    )
    c = register(
        "county",
        received_at=at("2026-03-10 09:00"),
        reporter=ANON,
        channel="online",
        categories=["duty.bribery"],
        tags=["rural", "education"],
        item_type="appeal",
    )
    d = register("city", received_at=at("2026-03-11 09:00"), reporter=LI, channel="visit", categories=["mass"])
    step(d, "transfer_down", "city", target_office=tree["county"].code)
    e = register("sibling", received_at=at("2026-03-12 09:00"), reporter=ANON, channel="letter")
    register("county", received_at=at("2026-02-15 09:00"), reporter=ANON)
    register("county", received_at=at("2025-03-20 09:00"), reporter=ANON)
    register("county", received_at=at("2025-03-21 09:00"), reporter=ANON)
    # b repeats a (same reporter); a is handled to the end, c disposed by verification.
    step(b, "mark_repeat", repeat_of=a.number)
    step(a, "accept")
    step(a, "dispose", way="inquiry")
    step(a, "record_inquiry_outcome", outcome="reminder")
    step(a, "conclude", substantiation="partly", conclusion="部分属实，已提醒谈话。")
    step(a, "feed_back")
    step(a, "record_return_visit", problem_solved=True, satisfaction=4)
    step(c, "accept")
    step(c, "dispose", way="verification")
    step(d, "accept")
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def march(today=date(2026, 11, 27)):
    return parse_period("2026-03", "2026-03", today=today)


def rows(stats, key):
    return {r["code"]: r["count"] for r in stats[key] if r["count"]}


def test_the_standard_statistics_of_a_county_for_a_month(tree, dataset):
    s = standard_statistics(office=tree["county"], period=march())
    assert s["totals"] == {
        "received": 4,
        "previous": 1,
        "last_year": 2,
        "mom": 300.0,
        "yoy": 100.0,
        "previous_period": ["2026-02-01", "2026-02-28"],
        "last_year_period": ["2025-03-01", "2025-03-31"],
    }
    assert s["origin"]["own_level"] == 3 and s["origin"]["from_above"] == 1
    assert rows(s, "channel") == {"letter": 1, "phone": 1, "online": 1, "visit": 1}
    assert rows(s, "item_type") == {"accusation": 3, "appeal": 1}
    cats = {r["code"]: r["count"] for r in s["category"] if r["count"]}
    assert cats == {"integrity": 2, "duty": 1, "mass": 1}
    assert rows(s, "key_area") == {"rural": 2, "education": 1}
    assert rows(s, "rank") == {"township": 1, "village": 1, "": 2}
    assert s["repeat"]["by_case"] == {"first": 3, "repeat": 1, "repeat_share": 25.0}
    # Zhang reported twice (a first report and its repeat), Li once, one anonymous report.
    assert s["repeat"]["by_person"] == {"all": 3, "first": 3, "repeat": 1}
    assert s["real_name"]["real_name"] == 3 and s["real_name"]["anonymous"] == 1
    assert s["acceptance"]["accepted"] == 3
    assert s["disposal"]["four_ways"] == 2 and s["disposal"]["total"] == 2
    assert {r["code"]: r["count"] for r in s["disposal"]["ways"] if r["count"]} == {"inquiry": 1, "verification": 1}
    assert s["conclusion"] == {"concluded": 1, "accepted": 3, "rate": 33.3}
    assert s["return_visits"]["visits"] == 1 and s["return_visits"]["solved"] == 1
    assert s["return_visits"]["satisfaction_rate"] == 100.0 and s["return_visits"]["mean_satisfaction"] == 4.0
    statuses = rows(s, "status")
    assert statuses == {"fed_back": 1, "repeat": 1, "disposed": 1, "accepted": 1}


def test_a_county_excludes_its_sibling_and_the_city_includes_both(tree, dataset):
    county = standard_statistics(office=tree["county"], period=march())
    sibling = standard_statistics(office=tree["sibling"], period=march())
    city = standard_statistics(office=tree["city"], period=march())
    assert county["totals"]["received"] == 4
    assert sibling["totals"]["received"] == 1
    assert city["totals"]["received"] == 5
    regions = {r["code"]: r["count"] for r in city["region"]}
    assert regions == {tree["county"].code: 4, tree["sibling"].code: 1}
    # Seen from the city, the case it received and sent down is its own level.
    assert city["origin"]["from_above"] == 0


def test_overdue_counts_open_deadlines_past_due(tree, register):
    old = timezone.now() - timedelta(days=60)
    register("county", received_at=old)
    s = standard_statistics(office=tree["county"], period=parse_period(None, None, today=timezone.localdate()))
    assert s["overdue"]["overdue"] >= 1


def test_persons_are_counted_once_across_months(tree, register):
    register("county", received_at=at("2026-01-05 09:00"), reporter=ZHANG)
    register("county", received_at=at("2026-02-05 09:00"), reporter=ZHANG)
    register("county", received_at=at("2026-02-06 09:00"), reporter=LI)
    s = standard_statistics(office=tree["county"], period=parse_period("2026-01", "2026-02", today=date(2026, 11, 27)))
    assert s["cases"] == 3
    assert s["repeat"]["by_person"]["all"] == 2
    feb = standard_statistics(
        office=tree["county"], period=parse_period("2026-02", "2026-02", today=date(2026, 11, 27))
    )
    assert feb["repeat"]["by_person"]["all"] == 2


# --- API --------------------------------------------------------------------------------------


@pytest.fixture
def analyst(tree, make_user):
    return make_user(tree["city"], Role.ANALYST, username="analyst_city")


def test_the_statistics_endpoint_answers_for_an_office_below_the_users(api, analyst, tree, dataset):
    r = api(analyst).get(
        "/api/v1/analytics/statistics/", {"office": tree["county"].code, "from": "2026-03", "to": "2026-03"}
    )
    assert r.status_code == 200, r.content
    assert r.json()["totals"]["received"] == 4
    assert "张三" not in r.content.decode() and "13800138000" not in r.content.decode()


def test_the_statistics_endpoint_runs_a_bounded_number_of_queries(api, analyst, tree, dataset):
    client = api(analyst)
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(
            "/api/v1/analytics/statistics/", {"office": tree["city"].code, "from": "2025-01", "to": "2026-12"}
        )
    assert r.status_code == 200
    assert len(ctx.captured_queries) <= 8, [q["sql"][:80] for q in ctx.captured_queries]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "to"),
        ({"from": "1990-01-01"}, "from"),
    ],
)
def test_bad_dates_are_a_400_with_a_message(api, analyst, params, field):
    r = api(analyst).get("/api/v1/analytics/statistics/", params)
    assert r.status_code == 400
    body = r.json()
    assert body["message"] and field in body["extra"]["fields"]


def test_an_office_outside_the_users_subtree_is_refused(api, analyst, tree):
    r = api(analyst).get("/api/v1/analytics/statistics/", {"office": tree["province"].code})
    assert r.status_code == 403
    assert tree["province"].code in r.json()["message"]
    r = api(analyst).get("/api/v1/analytics/statistics/", {"office": tree["province2"].code})
    assert r.status_code == 403


def test_an_unknown_office_is_a_422(api, analyst):
    r = api(analyst).get("/api/v1/analytics/statistics/", {"office": "999999"})
    assert r.status_code == 422


def test_roles_without_statistics_are_refused(api, make_user, tree):
    clerk = make_user(tree["county"], Role.INTAKE_CLERK)
    assert api(clerk).get("/api/v1/analytics/statistics/").status_code == 403
    assert api(None).get("/api/v1/analytics/statistics/").status_code in (401, 403)


def test_the_trend_endpoints_give_months_and_days(api, analyst, tree, dataset):
    client = api(analyst)
    r = client.get("/api/v1/analytics/trend/", {"office": tree["county"].code, "from": "2026-02", "to": "2026-03"})
    assert r.json()["received"] == [1, 4]
    r = client.get(
        "/api/v1/analytics/trend/",
        {"office": tree["county"].code, "from": "2026-02", "to": "2026-03", "dimension": "channel"},
    )
    assert r.json()["series"]["letter"] == [0, 1]
    r = client.get(
        "/api/v1/analytics/daily/", {"office": tree["county"].code, "from": "2026-03-01", "to": "2026-03-03"}
    )
    assert r.json()["received"] == [0, 1, 1]
    r = client.get("/api/v1/analytics/trend/", {"dimension": "nope"})
    assert r.status_code == 422

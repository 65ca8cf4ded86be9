"""Special topics: tagging new and existing cases, and each topic's own statistics."""

from __future__ import annotations

from datetime import date

import pytest

from qingfeng.accounts.models import Role
from qingfeng.analytics.counting import stored_counts
from qingfeng.analytics.models import Topic, TopicMatch
from qingfeng.analytics.periods import parse_period
from qingfeng.analytics.selectors import topic_statistics
from qingfeng.analytics.tests.conftest import at
from qingfeng.analytics.topics import topic_save
from qingfeng.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db

GRAIN = "反映某粮库储备粮以次充好问题"
GRAIN_TEXT = "某县粮库负责人虚报储备粮数量，套取国家粮食补贴资金。"


@pytest.fixture
def analyst(tree, make_user):
    return make_user(tree["province"], Role.ANALYST, username="analyst_p")


@pytest.fixture
def save(django_capture_on_commit_callbacks):
    """topic_save, running the background tagging it dispatches after commit."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return topic_save(**kwargs)

    return run


def test_existing_cases_are_tagged_in_the_background_when_a_topic_is_defined(tree, register, analyst, save):
    grain = register("county", title=GRAIN, description=GRAIN_TEXT, received_at=at("2026-05-05 10:00"))
    other = register("county", received_at=at("2026-05-06 10:00"))
    farmland = register(
        "sibling",
        title="违法占用耕地建房",
        description="村干部违规占用基本农田修建厂房。",
        categories=["mass.collective_assets"],
        region_code="110102",
    )
    topic = save(actor=analyst, code="food", name="粮食安全", keywords=["储备粮", "粮食补贴"])
    topic.refresh_from_db()
    assert topic.tagged_at is not None  # eager in tests; Celery in production
    assert set(TopicMatch.objects.filter(topic=topic).values_list("case_id", flat=True)) == {grain.pk}
    by_category = save(actor=analyst, code="assets", name="集体资产", categories=["mass"], regions=["110102"])
    assert list(TopicMatch.objects.filter(topic=by_category).values_list("case_id", flat=True)) == [farmland.pk]
    assert not TopicMatch.objects.filter(case=other).exists()


def test_a_new_case_is_tagged_as_it_is_registered_and_counted_for_the_topic(tree, register, analyst, step, save):
    topic = save(actor=analyst, code="food", name="粮食安全", keywords=["储备粮"])
    case = register("county", title=GRAIN, description=GRAIN_TEXT, received_at=at("2026-05-05 10:00"))
    register("county", received_at=at("2026-05-06 10:00"))
    assert TopicMatch.objects.filter(topic=topic, case=case).exists()
    period = parse_period("2026-05", "2026-05", today=date(2026, 11, 27))
    stats = topic_statistics(topic=topic, office=tree["city"], period=period)
    assert stats["totals"]["received"] == 1
    assert {r["code"]: r["count"] for r in stats["region"]} == {tree["county"].code: 1}
    step(case, "screen")
    stats = topic_statistics(topic=topic, office=tree["county"], period=period)
    assert {r["code"]: r["count"] for r in stats["status"] if r["count"]} == {"screened": 1}
    assert stats["trend"]["received"] == [1]


def test_topic_counts_survive_a_rebuild(tree, register, analyst, save):
    register("county", title=GRAIN, description=GRAIN_TEXT, received_at=at("2026-05-05 10:00"))
    save(actor=analyst, code="food", name="粮食安全", keywords=["储备粮"])
    register("county", title=GRAIN, description=GRAIN_TEXT, received_at=at("2026-06-05 10:00"))
    before = stored_counts()
    from qingfeng.analytics.counting import rebuild_counts

    rebuild_counts()
    assert stored_counts() == before


def test_redefining_a_topic_retags_the_cases(tree, register, analyst, save):
    grain = register("county", title=GRAIN, description=GRAIN_TEXT)
    topic = save(actor=analyst, code="food", name="粮食安全", keywords=["储备粮"])
    save(actor=analyst, code="food", name="粮食安全", keywords=["耕地"], topic=topic)
    assert not TopicMatch.objects.filter(case=grain).exists()


def test_a_topic_needs_a_definition(analyst, save):
    with pytest.raises(ValidationFailed) as exc:
        save(actor=analyst, code="empty", name="空", regions=["1x"])
    assert "regions" in exc.value.fields


def test_topics_through_the_api(api, analyst, tree, register, make_user, django_capture_on_commit_callbacks):
    register("county", title=GRAIN, description=GRAIN_TEXT, received_at=at("2026-05-05 10:00"))
    client = api(analyst)
    body = {"code": "food", "name": "粮食安全", "keywords": ["储备粮"]}
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/api/v1/analytics/topics/", body, format="json")
    assert r.status_code == 201, r.content
    r = client.get("/api/v1/analytics/topics/food/")
    assert r.json()["matches"] == 1
    r = client.get("/api/v1/analytics/topics/food/statistics/", {"from": "2026-05", "to": "2026-05"})
    assert r.json()["totals"]["received"] == 1
    head = make_user(tree["province"], Role.PETITION_HEAD)
    r = api(head).post("/api/v1/analytics/topics/", {"code": "x", "name": "x", "keywords": ["x"]}, format="json")
    assert r.status_code == 403
    assert Topic.objects.count() == 1


@pytest.mark.postgres
def test_existing_cases_are_found_through_the_full_text_index_not_case_by_case(register):
    # The keyword subquery once named the outer table, so PostgreSQL ran it once per case
    # (15 minutes and counting at 10 million cases).
    from django.db import connection

    from qingfeng.analytics.topics import Matcher, _candidates

    register("county", title=GRAIN, description=GRAIN_TEXT)
    matcher = Matcher(0, (frozenset({"储备粮"}), frozenset({"粮库", "补贴"})), ("/integrity/",), ())
    sql, params = _candidates(matcher).values_list("id", flat=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Run once (a hashed subplan or a join), never re-run per outer row.
    assert "One-Time Filter" not in plan, plan
    assert "SubPlan" not in plan or "hashed SubPlan" in plan, plan
    assert list(_candidates(matcher).values_list("id", flat=True))

"""Early warning: the statistics on synthetic series, and the daily check on the database."""

from __future__ import annotations

import json
from datetime import date, timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from qingfeng.accounts.models import Role
from qingfeng.analytics import detection
from qingfeng.analytics.alerts import run_early_warning, warning_decide
from qingfeng.analytics.models import CategoryCount, EarlyWarning
from qingfeng.analytics.tests.conftest import at
from qingfeng.core.errors import Conflict
from qingfeng.notifications.models import Notification
from qingfeng.offices.selectors import office_ancestors


def _series(rng, months=24, per_day=2.0, last_days=28, surge=1.0):
    first = date(2024, 1, 1)
    days = [first + timedelta(days=i) for i in range(months * 31 + 60)]
    lam = np.array([per_day * (0.6 if d.weekday() >= 5 else 1.16) for d in days])
    lam[-7:] *= surge
    y = rng.poisson(lam)
    w = [0.6 if d.weekday() >= 5 else 1.16 for d in days]
    cut = (days[-last_days]).replace(day=1)
    hist_months, hist, expo = [], [], []
    for i, d in enumerate(days):
        if d >= cut:
            break
        if d.day == 1:
            hist_months.append(d)
            hist.append(0)
            expo.append(0.0)
        hist[-1] += int(y[i])
        expo[-1] += w[i]
    return dict(
        history=hist,
        exposures=expo,
        months=hist_months,
        recent=list(y[-last_days:]),
        recent_days=days[-last_days:],
        recent_weights=w[-last_days:],
    )


def test_a_stable_series_raises_no_warning():
    rng = np.random.default_rng(5)
    alarms = sum(detection.evaluate(**_series(rng)).alarm for _ in range(40))
    assert alarms <= 1


def test_an_injected_surge_is_detected_with_its_band():
    ev = detection.evaluate(**_series(np.random.default_rng(7), surge=3.0))
    assert ev.alarm and ev.method == "window"
    assert ev.observed > ev.upper >= ev.expected > ev.lower
    assert ev.score > 3


def test_the_negative_binomial_tail_and_quantile_agree():
    q = detection.quantile(0.99, 10.0, 2.0)
    assert detection.tail_probability(int(q) + 1, 10.0, 2.0) <= 0.01
    assert detection.tail_probability(0, 3.0, 1.0) == 1.0
    assert abs(detection.tail_probability(1, 2.0, 1.0) - (1 - np.exp(-2.0))) < 1e-9


# --- the daily check on the database ------------------------------------------------------------

AS_OF = date(2026, 6, 30)


@pytest.fixture
def surge_data(tree, register):
    """Two years of history from the count tables; a surge of integrity cases in the county's last week."""
    county = tree["county"]
    rows = []
    month = date(2024, 6, 1)
    while month < date(2026, 6, 1):
        for office in office_ancestors(county):
            rows.append(CategoryCount(office=office, month=month, category="integrity.gifts", n=2))
            rows.append(CategoryCount(office=office, month=month, category="work", n=8))
        month = (month + timedelta(days=32)).replace(day=1)
    CategoryCount.objects.bulk_create(rows)
    for i in range(10):
        register("county", received_at=at(f"2026-06-{24 + i % 7:02d} 10:00"), categories=["integrity.gifts"])
    for i in range(8):
        register("county", received_at=at(f"2026-06-{3 + 3 * i:02d} 10:00"), categories=["work"])
    return county


@pytest.mark.django_db
def test_the_daily_check_flags_the_surge_and_not_the_stable_series(tree, surge_data):
    raised = run_early_warning(as_of=AS_OF)
    series = {(r.office_code, r.warning.series) for r in raised}
    assert (tree["county"].code, "category:integrity") in series
    assert not any(s == "category:work" for _o, s in series)
    w = next(r.warning for r in raised if r.office_code == tree["county"].code)
    assert w.observed == 10 and w.upper < 10
    assert w.cases.count() == 10
    assert len(w.evidence["observed_daily"]) == 28
    assert Notification.objects.filter(office=tree["county"], dedupe_key=f"warning:{w.pk}").exists()
    # A rerun of the same day raises nothing new.
    assert run_early_warning(as_of=AS_OF) == []


@pytest.mark.django_db
def test_the_command_prints_one_json_line_per_warning(tree, surge_data):
    out = StringIO()
    call_command("early_warning", "--date", AS_OF.isoformat(), stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    county = [w for w in lines if w["office"] == tree["county"].code]
    assert county and county[0]["series"] == "category:integrity"
    assert {"observed", "expected", "band", "score", "region"} <= set(county[0])
    assert county[0]["observed"] == 10


@pytest.mark.django_db
def test_a_party_named_by_several_reporters_is_flagged(tree, register):
    from qingfeng.intake.services import PartyInput, ReporterInput

    for i, phone in enumerate(["13800000001", "13800000002", "13800000003"]):
        register(
            "county" if i < 2 else "sibling",
            received_at=at(f"2026-06-2{i} 10:00"),
            reporter=ReporterInput(anonymous=False, name=f"举报人{i}", phone=phone),
            parties=[PartyInput(name="钱七", unit="某某镇人民政府")],
        )
    raised = run_early_warning(as_of=AS_OF)
    party = [r for r in raised if r.warning.kind == "party"]
    assert len(party) == 1
    assert party[0].office_code == tree["city"].code  # the lowest office above all three cases
    assert party[0].warning.observed == 3


@pytest.mark.django_db
def test_an_analyst_acknowledges_or_dismisses_a_warning_once(api, tree, surge_data, make_user):
    run_early_warning(as_of=AS_OF)
    analyst = make_user(tree["city"], Role.ANALYST)
    w = EarlyWarning.objects.filter(office=tree["county"]).first()
    r = api(analyst).post(f"/api/v1/analytics/warnings/{w.pk}/acknowledge/", {"note": "已安排核查"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    r = api(analyst).post(f"/api/v1/analytics/warnings/{w.pk}/dismiss/", {}, format="json")
    assert r.status_code == 409
    other = EarlyWarning.objects.exclude(pk=w.pk).filter(office__path__startswith=tree["city"].path).first()
    if other is not None:
        assert warning_decide(warning_id=other.pk, actor=analyst, state="dismissed").state == "dismissed"
        with pytest.raises(Conflict):
            warning_decide(warning_id=other.pk, actor=analyst, state="acknowledged")
    sibling_analyst = make_user(tree["sibling"], Role.ANALYST)
    r = api(sibling_analyst).post(f"/api/v1/analytics/warnings/{w.pk}/dismiss/", {}, format="json")
    assert r.status_code == 404
    r = api(analyst).get("/api/v1/analytics/warnings/", {"office": tree["county"].code})
    assert r.status_code == 200 and r.json()["count"] >= 1

"""Count tables: updated inside each event's transaction, and equal to a rebuild from the events."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from qingfeng.analytics.counting import stored_counts
from qingfeng.analytics.models import DayCount, OriginCount, RegionCount, StatusCount
from qingfeng.analytics.tests.conftest import at
from qingfeng.intake.services import PartyInput, ReporterInput

pytestmark = pytest.mark.django_db


def day_n(office, day):
    return sum(DayCount.objects.filter(office=office, day=day).values_list("n", flat=True))


def status_n(office, month, status):
    return sum(StatusCount.objects.filter(office=office, month=month, status=status).values_list("n", flat=True))


def test_a_registration_is_counted_under_every_ancestor_office_in_its_own_transaction(tree, register):
    with transaction.atomic():
        register("county", received_at=at("2026-03-10 10:00"))
        for key in ("county", "city", "province", "national"):
            assert day_n(tree[key], date(2026, 3, 10)) == 1, key
    assert day_n(tree["sibling"], date(2026, 3, 10)) == 0
    assert day_n(tree["province2"], date(2026, 3, 10)) == 0


def test_counts_roll_back_with_the_registration_that_failed(tree, register):
    with pytest.raises(RuntimeError), transaction.atomic():
        register("county", received_at=at("2026-03-10 10:00"))
        raise RuntimeError("the registration fails after the hook ran")
    assert DayCount.objects.count() == 0


def test_a_transition_moves_the_case_between_state_buckets_in_its_transaction(tree, register, step):
    case = register("county", received_at=at("2026-03-10 10:00"))
    march = date(2026, 3, 1)
    assert status_n(tree["city"], march, "received") == 1
    with transaction.atomic():
        step(case, "screen")
        assert status_n(tree["city"], march, "received") == 0
        assert status_n(tree["city"], march, "screened") == 1


def test_a_transfer_down_counts_the_case_in_the_receiving_subtree_as_from_above(tree, register, step):
    case = register("city", received_at=at("2026-04-02 09:00"))
    april = date(2026, 4, 1)
    assert day_n(tree["county"], date(2026, 4, 2)) == 0
    step(case, "transfer_down", "city", target_office=tree["county"].code)
    assert day_n(tree["county"], date(2026, 4, 2)) == 1
    assert day_n(tree["city"], date(2026, 4, 2)) == 1  # still one case for the city's subtree
    assert OriginCount.objects.get(office=tree["county"], month=april).origin == "transferred"
    assert OriginCount.objects.get(office=tree["city"], month=april, n=1).origin == "own_level"
    region = {r.child_id: r.n for r in RegionCount.objects.filter(office=tree["city"], month=april) if r.n}
    assert region == {tree["county"].pk: 1}


def test_a_case_sent_up_leaves_the_sender_subtree(tree, register, step):
    case = register("county", received_at=at("2026-04-02 09:00"))
    step(case, "send_up", "county", concerns_own_leaders=True)
    assert day_n(tree["county"], date(2026, 4, 2)) == 0
    assert day_n(tree["city"], date(2026, 4, 2)) == 1


def _workflow(tree, register, step):
    """Registrations, transfers across offices and a full run of transitions."""
    today = timezone.localdate()
    known = ReporterInput(anonymous=False, name="王五", phone="13900139000")
    # A case handled to the end at the county, with a return visit.
    a = register("county", received_at=at("2026-02-03 10:00"), categories=["integrity.gifts"], tags=["rural"])
    step(a, "screen")
    step(a, "accept")
    step(a, "dispose", way="inquiry")
    step(a, "record_inquiry_outcome", outcome="cleared")
    step(a, "conclude", substantiation="unsubstantiated", conclusion="经核查，反映问题不属实。")
    step(a, "feed_back")
    step(a, "record_return_visit", problem_solved=True, satisfaction=5)
    # Received at the city, assigned to the county, accepted there, disposed by verification.
    b = register("city", received_at=at("2026-02-20 15:00"), reporter=known, categories=["duty.bribery"])
    step(b, "assign", "city", target_office=tree["county"].code, due_date=(today + timedelta(days=30)).isoformat())
    step(b, "accept")
    step(b, "dispose", way="verification")
    # The same reporter again, at the sibling county; marked as a repeat there.
    c0 = register("sibling", received_at=at("2026-01-15 11:00"), reporter=known, channel="visit")
    c = register("sibling", received_at=at("2026-03-05 11:00"), reporter=known, channel="letter")
    step(c, "mark_repeat", "sibling", repeat_of=c0.number)
    # Sent up to the city and transferred down to the other county.
    d = register("sibling", received_at=at("2026-03-06 09:00"), parties=[PartyInput(name="赵六", rank="county")])
    step(d, "send_up", "sibling")
    step(d, "transfer_down", "city", target_office=tree["county"].code)
    step(d, "not_accept", not_accepted_reason="other_body")
    # Shelved, reopened, returned to screening and accepted again.
    e = register("county", received_at=at("2026-03-09 09:00"), item_type="appeal")
    step(e, "accept")
    step(e, "dispose", way="shelved")
    step(e, "reopen")
    step(e, "return")
    step(e, "accept")
    # Province-level case left waiting (open deadline).
    register("province", received_at=timezone.now() - timedelta(days=2))
    return a, b, c, d, e


def test_rebuild_counts_gives_exactly_the_incremental_counts(tree, register, step, staff):
    staff("sibling")
    _workflow(tree, register, step)
    incremental = stored_counts()
    assert incremental
    out = StringIO()
    call_command("rebuild_counts", stdout=out)
    assert stored_counts() == incremental
    assert "rows" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rebuild_counts_in_forked_workers_gives_exactly_the_incremental_counts(tree, register, step, staff):
    from qingfeng.analytics.counting import can_fork_workers, compute_counts

    assert can_fork_workers()  # the test data is committed: children can read it
    staff("sibling")
    _workflow(tree, register, step)
    # More cases than id ranges, with reporters whose reports fall in different ranges.
    for k in range(12):
        register(
            "county" if k % 2 else "sibling", reporter=ReporterInput(anonymous=False, name="李四", phone="13700137000")
        )
    incremental = stored_counts()
    assert compute_counts(workers=3) == compute_counts() == incremental
    out = StringIO()
    call_command("rebuild_counts", "--workers", "2", stdout=out)
    assert stored_counts() == incremental
    assert "2 processes" in out.getvalue()
    # The parent's connection still works after the children went.
    assert DayCount.objects.exists()


def test_the_counting_hook_adds_a_bounded_number_of_queries_to_a_registration(tree, register, step):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from qingfeng.analytics import counting
    from qingfeng.cases import services

    register("county")
    with CaptureQueriesContext(connection) as counted:
        case = register("county")
    services.EVENT_HOOKS.remove(counting.on_event)
    try:
        with CaptureQueriesContext(connection) as plain:
            register("county")
    finally:
        services.EVENT_HOOKS.append(counting.on_event)
    # Offices, categories, tags, rank, reporter, the person's other reports, active topics, upserts.
    assert len(counted.captured_queries) - len(plain.captured_queries) <= 18
    with CaptureQueriesContext(connection) as moved:
        step(case, "screen")
    assert len(moved.captured_queries) <= 20

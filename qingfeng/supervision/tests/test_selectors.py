"""The sent-down list and the overdue board: scope, facts per case, grouping, order, query counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qingfeng.supervision.selectors import (
    SentDownFilters,
    days_held,
    deadline_info,
    overdue_board,
    sent_down_cases,
    sent_down_summary,
)
from qingfeng.supervision.services import chase_acknowledge, chase_create, mark_create
from qingfeng.supervision.tests.conftest import make_overdue

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 20)


def test_the_city_sees_the_case_it_sent_down_with_its_holder_and_time_held(register, staff, send_down, tree):
    with time_machine.travel("2026-11-02 09:00 +0800", tick=False):
        case = register("city", actor=staff("city"))
        send_down(case, "county")
    with time_machine.travel("2026-11-05 15:00 +0800", tick=False):
        send_down(case, "street")
    [row] = sent_down_cases(office=tree["city"], today=TODAY)
    assert row.number == case.number and row.holding_office == tree["street"]
    assert timezone.localtime(row.held_since).date() == date(2026, 11, 5)
    assert days_held(row, TODAY) == 15
    # The county, which passed it on, sees it too; the street holds it, so it is not "sent down" for it.
    assert [c.number for c in sent_down_cases(office=tree["county"])] == [case.number]
    assert not sent_down_cases(office=tree["street"]).exists()
    assert not sent_down_cases(office=tree["sibling"]).exists()
    assert not sent_down_cases(office=tree["province"]).exists()


def test_cases_the_office_holds_itself_or_cannot_see_are_not_listed(register, staff, sent_case, tree):
    register("city", actor=staff("city"))  # held by the city itself
    register("county", actor=staff("county"))  # registered below; the city never saw it
    assert [c.number for c in sent_down_cases(office=tree["city"])] == [sent_case.number]


def test_each_row_carries_its_supervision_facts(sent_case, supervisor, staff, later, tree):
    row = sent_down_cases(office=tree["city"]).get()
    assert (row.open_marks, row.our_mark_id, row.last_chase_at) == (0, None, None)
    mark_create(case_number=sent_case.number, actor=staff("county"), note="督办", target_date=later, form="phone")
    mark = mark_create(case_number=sent_case.number, actor=supervisor, note="督办", target_date=later, form="letter")
    chase = chase_create(case_number=sent_case.number, actor=staff("county"), message="催办")
    row = sent_down_cases(office=tree["city"]).get()
    assert row.open_marks == 2 and row.our_mark_id == mark.pk and row.our_mark_due == later
    assert row.last_chase_at == chase.created_at and row.last_chase_seen_at is None
    chase_acknowledge(chase_id=chase.pk, actor=staff("street"))
    assert sent_down_cases(office=tree["city"]).get().last_chase_seen_at is not None


def test_the_list_filters_by_state_deadline_supervision_and_office(register, staff, send_down, supervisor, tree, later):
    to_street = send_down(register("city", actor=staff("city")), "county", "street")
    to_county = send_down(register("city", actor=staff("city")), "county")
    to_sibling = send_down(register("city", actor=staff("city")), "sibling")
    make_overdue(to_sibling, due=TODAY - timedelta(days=3), serious_on=TODAY + timedelta(days=4))
    make_overdue(to_county, due=TODAY - timedelta(days=12), serious_on=TODAY - timedelta(days=5))
    mark_create(case_number=to_street.number, actor=supervisor, note="督办", target_date=later, form="letter")

    def numbers(**kw):
        return {c.number for c in sent_down_cases(office=tree["city"], filters=SentDownFilters(**kw), today=TODAY)}

    assert numbers(holding_office=tree["county"]) == {to_street.number, to_county.number}
    assert numbers(holding_office=tree["street"]) == {to_street.number}
    assert numbers(deadline="overdue") == {to_sibling.number, to_county.number}
    assert numbers(deadline="serious") == {to_county.number}
    assert numbers(supervised=True) == {to_street.number}
    assert numbers(supervised=False) == {to_county.number, to_sibling.number}
    assert numbers(status=["accepted"]) == set()
    assert numbers(q=to_sibling.number) == {to_sibling.number}
    ordered = [c.number for c in sent_down_cases(office=tree["city"], today=TODAY)]
    assert ordered[:2] == [to_county.number, to_sibling.number]  # the earliest deadline first


def test_deadline_info_names_the_level_and_the_days_late(sent_case):
    make_overdue(sent_case, due=TODAY - timedelta(days=3), serious_on=TODAY + timedelta(days=2))
    sent_case.refresh_from_db()
    info = deadline_info(sent_case, TODAY)
    assert (info.level, info.days_late, info.due) == ("overdue", 3, TODAY - timedelta(days=3))
    assert info.label
    assert deadline_info(sent_case, TODAY + timedelta(days=5)).level == "serious"


def test_the_sent_down_list_is_one_query_however_many_cases(register, staff, send_down, supervisor, tree, later):
    def build(n):
        for _ in range(n):
            case = send_down(register("city", actor=staff("city")), "county", "street")
            mark_create(case_number=case.number, actor=supervisor, note="督办", target_date=later, form="letter")
            chase_create(case_number=case.number, actor=supervisor, message="催办")

    build(2)
    with CaptureQueriesContext(connection) as few:
        rows = list(sent_down_cases(office=tree["city"]))
        [(r.holding_office.name, r.open_marks, r.last_chase_at) for r in rows]
    build(6)
    with CaptureQueriesContext(connection) as many:
        rows = list(sent_down_cases(office=tree["city"]))
        [(r.holding_office.name, r.open_marks, r.last_chase_at) for r in rows]
    assert len(rows) == 8
    assert len(few) == len(many) == 1


@pytest.fixture
def board_cases(register, staff, send_down):
    """Overdue cases sent down by the city: 2 in the county itself, 2 in its streets, 2 in the sibling."""

    def case(*path, due_days_ago, serious):
        c = send_down(register("city", actor=staff("city")), *path)
        due = TODAY - timedelta(days=due_days_ago)
        make_overdue(c, due=due, serious_on=TODAY - timedelta(days=1) if serious else TODAY + timedelta(days=5))
        return c

    return {
        "county_serious": case("county", due_days_ago=20, serious=True),
        "county_late": case("county", due_days_ago=2, serious=False),
        "street_late": case("county", "street", due_days_ago=9, serious=False),
        "street2_late": case("county", "street2", due_days_ago=4, serious=False),
        "sibling_serious_1": case("sibling", due_days_ago=12, serious=True),
        "sibling_serious_2": case("sibling", due_days_ago=11, serious=True),
        "in_time": send_down(register("city", actor=staff("city")), "sibling"),
    }


def test_the_board_groups_by_direct_lower_office_worst_first(board_cases, tree):
    rows = overdue_board(office=tree["city"], today=TODAY)
    assert [r.office for r in rows] == [tree["sibling"], tree["county"]]
    sibling, county = rows
    assert (sibling.serious, sibling.overdue_only, sibling.total) == (2, 0, 2)
    assert (county.serious, county.overdue_only, county.total) == (1, 3, 4)  # its streets count with it
    assert county.oldest_due == TODAY - timedelta(days=20) and county.max_days_late == 20


def test_the_board_can_group_by_holding_office(board_cases, tree):
    rows = overdue_board(office=tree["city"], today=TODAY, by="holder")
    # sibling: 2 serious; county: 1 serious; then one overdue each, the oldest due first.
    assert [r.office.code for r in rows] == ["110102", "110101", "110101001", "110101002"]
    assert [(r.serious, r.total) for r in rows] == [(2, 2), (1, 2), (0, 1), (0, 1)]


def test_the_county_board_shows_its_streets_and_ties_break_on_the_oldest_due_date(board_cases, tree):
    rows = overdue_board(office=tree["county"], today=TODAY)
    # The county passed these on, so it sees them; the cases it holds itself are not on its board.
    assert [(r.office, r.total, r.oldest_due) for r in rows] == [
        (tree["street"], 1, TODAY - timedelta(days=9)),
        (tree["street2"], 1, TODAY - timedelta(days=4)),
    ]


def test_the_board_counts_cases_under_our_supervision_and_ignores_other_offices(
    board_cases, supervisor, tree, later, staff
):
    case = board_cases["sibling_serious_1"]
    mark_create(case_number=case.number, actor=supervisor, note="督办", target_date=later, form="on_site")
    rows = {r.office.code: r for r in overdue_board(office=tree["city"], today=TODAY)}
    assert rows["110102"].supervised == 1 and rows["110101"].supervised == 0
    assert overdue_board(office=tree["sibling"], today=TODAY) == []  # it holds them; nothing sent down
    assert overdue_board(office=tree["province"], today=TODAY) == []  # it never saw them


def test_the_board_is_two_queries(board_cases, tree, django_assert_num_queries):
    with django_assert_num_queries(2):
        overdue_board(office=tree["city"], today=TODAY)
    with django_assert_num_queries(2):
        overdue_board(office=tree["city"], today=TODAY, by="holder")


def test_the_summary_counts_in_one_query(board_cases, supervisor, tree, later, django_assert_num_queries):
    case = board_cases["street_late"]
    mark_create(case_number=case.number, actor=supervisor, note="督办", target_date=later, form="letter")
    chase_create(case_number=case.number, actor=supervisor, message="催办")
    with django_assert_num_queries(1):
        s = sent_down_summary(office=tree["city"], today=TODAY)
    assert (s.total, s.overdue, s.serious, s.supervised, s.chased_unseen) == (7, 6, 3, 1, 1)

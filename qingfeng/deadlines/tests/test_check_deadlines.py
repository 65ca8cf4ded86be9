from datetime import date

import pytest
import time_machine
from django.core.management import call_command

from qingfeng.cases.models import Case
from qingfeng.deadlines.services import check_deadlines
from qingfeng.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(register):
    with time_machine.travel("2026-09-29 10:00 +0800", tick=False):
        return register("county")


def test_nothing_is_flagged_before_the_warning_point(case):
    assert check_deadlines(today=date(2026, 10, 9)) == {"warn": 0, "overdue": 0, "serious": 0}
    assert not Notification.objects.filter(kind__startswith="deadline").exists()


def test_a_warning_then_overdue_then_serious_each_notify_once(case, tree):
    assert check_deadlines(today=date(2026, 10, 10))["warn"] == 1
    assert check_deadlines(today=date(2026, 10, 10))["warn"] == 0  # no second notice for the same level
    assert check_deadlines(today=date(2026, 10, 13))["overdue"] == 1
    assert check_deadlines(today=date(2026, 10, 20))["serious"] == 1
    notes = Notification.objects.filter(case=case).order_by("id")
    assert [n.kind for n in notes if n.kind.startswith("deadline")] == [
        "deadline_warning",
        "deadline_overdue",
        "deadline_overdue",
    ]
    assert all(n.office == tree["county"] for n in notes)
    assert Case.objects.get(pk=case.pk).deadline_level == 3


def test_a_met_deadline_is_not_flagged(case, staff):
    from qingfeng.cases.services import case_transition

    # The case belongs to the county's staff fixture office; screening it and accepting closes the screening deadline.
    clerk = staff("county")
    case_transition(case_number=case.number, action="accept", actor=clerk)
    case.refresh_from_db()
    assert case.next_due_kind == "acceptance_notice"
    assert check_deadlines(today=date(2026, 10, 13))["overdue"] == 0


def test_two_concurrent_runs_do_not_notify_twice(case):
    # A stale copy of the row (as a second worker would hold) cannot move the level again.
    stale = Case.objects.get(pk=case.pk)
    check_deadlines(today=date(2026, 10, 13))
    changed = Case.objects.filter(id=stale.id, deadline_level=stale.deadline_level).update(deadline_level=2)
    assert changed == 0


def test_the_command_prints_counts(case, capsys):
    call_command("check_deadlines", "--date", "2026-10-13")
    assert "overdue: 1" in capsys.readouterr().out


def test_the_periodic_task_runs_the_same_check(case):
    from qingfeng.deadlines.tasks import check_deadlines_task

    with time_machine.travel("2026-10-13 09:00 +0800", tick=False):
        result = check_deadlines_task.delay().get()
    assert result["overdue"] == 1

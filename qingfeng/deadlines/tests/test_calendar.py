from datetime import date

import pytest
import time_machine

from qingfeng.deadlines import calendar, rules
from qingfeng.deadlines.models import CalendarDay

pytestmark = pytest.mark.django_db


def test_the_shipped_calendar_is_loaded_by_migration():
    assert CalendarDay.objects.filter(date=date(2026, 10, 1), kind="holiday").exists()
    assert CalendarDay.objects.filter(date=date(2026, 10, 10), kind="workday").exists()
    years = {d.year for d in CalendarDay.objects.values_list("date", flat=True)}
    assert {2025, 2026, 2027} <= years


def test_five_working_days_skip_a_weekend():
    # Thu 2026-03-05 + 5 working days = Thu 2026-03-12
    assert calendar.add_working_days(date(2026, 3, 5), 5) == date(2026, 3, 12)


def test_national_day_week_is_skipped_and_the_adjusted_saturday_counts():
    # Received Tue 2026-09-29. Working days after it: Wed 30 Sep, then 1–7 Oct are holidays,
    # Thu 8, Fri 9, Sat 10 (adjusted workday), Mon 12.
    assert calendar.add_working_days(date(2026, 9, 29), 1) == date(2026, 9, 30)
    assert calendar.add_working_days(date(2026, 9, 29), 4) == date(2026, 10, 10)
    assert calendar.add_working_days(date(2026, 9, 29), 5) == date(2026, 10, 12)


def test_spring_festival_2026_and_its_adjusted_workdays():
    # Fri 2026-02-13 + 1 = Sat 14 Feb (adjusted workday); + 2 = Tue 24 Feb after the 15–23 holiday.
    assert calendar.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert calendar.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert calendar.is_working_day(date(2026, 2, 28))  # Saturday, adjusted workday


def test_counting_backwards_for_warning_points():
    assert calendar.add_working_days(date(2026, 10, 12), -1) == date(2026, 10, 10)
    assert calendar.add_working_days(date(2026, 10, 12), -2) == date(2026, 10, 9)
    assert calendar.add_working_days(date(2026, 10, 12), -4) == date(2026, 9, 30)


def test_zero_days_moves_a_holiday_forward_to_the_next_working_day():
    assert calendar.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 8)


def test_working_days_between_counts_both_directions():
    assert calendar.working_days_between(date(2026, 9, 29), date(2026, 10, 12)) == 5
    assert calendar.working_days_between(date(2026, 10, 12), date(2026, 9, 29)) == -5


def test_a_calendar_edit_takes_effect_immediately():
    assert calendar.add_working_days(date(2026, 3, 5), 1) == date(2026, 3, 6)
    CalendarDay.objects.create(date=date(2026, 3, 6), kind="holiday", name="地方假日")
    assert calendar.add_working_days(date(2026, 3, 5), 1) == date(2026, 3, 9)


def test_one_month_deadline_lands_on_a_working_day():
    # 2026-09-01 + 1 month = 2026-10-01 (holiday) -> 2026-10-08
    assert calendar.add_months(date(2026, 9, 1), 1) == date(2026, 10, 8)
    assert calendar.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)  # clamped; an adjusted Saturday workday
    assert calendar.add_months(date(2027, 1, 31), 1) == date(2027, 3, 1)  # 28 Feb 2027 is a Sunday


def test_configured_rule_overrides_the_default_limit():
    from qingfeng.deadlines.models import DeadlineRule

    assert rules.rule(rules.SCREENING).working_days == 5
    DeadlineRule.objects.create(kind=rules.SCREENING, working_days=3, warn_working_days=1, serious_working_days=2)
    assert rules.rule(rules.SCREENING).working_days == 3
    assert rules.rule(rules.SCREENING).due_from(date(2026, 3, 5)) == date(2026, 3, 10)


@time_machine.travel("2026-09-29 10:00 +0800", tick=False)
def test_registration_stores_the_screening_and_acceptance_notice_deadlines(register):
    case = register("county")
    assert case.screening_due == date(2026, 10, 12)
    # 15 working days from 29 Sep: 30 Sep, 8, 9, 10(Sat), 12–16, 19–23, 26 Oct -> 26 Oct
    assert case.acceptance_notice_due == date(2026, 10, 26)
    assert case.next_due == date(2026, 10, 12) and case.next_due_kind == "screening"
    assert case.next_warn_on == date(2026, 10, 10)
    assert case.next_serious_on == date(2026, 10, 19)

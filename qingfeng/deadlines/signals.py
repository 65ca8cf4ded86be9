from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from qingfeng.deadlines import calendar, rules
from qingfeng.deadlines.models import CalendarDay, DeadlineRule


@receiver([post_save, post_delete], sender=CalendarDay)
def _calendar_changed(**kwargs: Any) -> None:
    calendar.invalidate()


@receiver([post_save, post_delete], sender=DeadlineRule)
def _rules_changed(**kwargs: Any) -> None:
    rules.invalidate()

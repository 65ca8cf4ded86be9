"""Deadline kinds and their default limits (domain.md, "Deadlines"); overridable per kind."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

from qingfeng.deadlines import calendar


@dataclass(frozen=True)
class Rule:
    kind: str
    working_days: int | None
    months: int | None
    warn_working_days: int
    serious_working_days: int

    def due_from(self, anchor: date) -> date:
        if self.months:
            return calendar.add_months(anchor, self.months)
        return calendar.add_working_days(anchor, self.working_days or 0)

    def warn_on(self, due: date) -> date:
        return calendar.add_working_days(due, -self.warn_working_days) if self.warn_working_days else due

    def serious_on(self, due: date) -> date:
        return calendar.add_working_days(due, self.serious_working_days)


SCREENING = "screening"
ACCEPT = "accept"
ACCEPTANCE_NOTICE = "acceptance_notice"
INQUIRY_ANSWER = "inquiry_answer"
INQUIRY_REPORT = "inquiry_report"
ASSIGNMENT = "assignment"
FEEDBACK = "feedback"

LABELS = {
    SCREENING: _("Screen and decide (send up within 5 working days)"),
    ACCEPT: _("Register and accept a transferred item"),
    ACCEPTANCE_NOTICE: _("Tell the real-name reporter about acceptance"),
    INQUIRY_ANSWER: _("Written answer to the inquiry letter"),
    INQUIRY_REPORT: _("Report after the inquiry"),
    ASSIGNMENT: _("Report the result of an assigned item"),
    FEEDBACK: _("Tell the real-name reporter the result"),
}

DEFAULT_RULES: dict[str, Rule] = {
    SCREENING: Rule(SCREENING, 5, None, 1, 5),
    ACCEPT: Rule(ACCEPT, 5, None, 1, 5),
    ACCEPTANCE_NOTICE: Rule(ACCEPTANCE_NOTICE, 15, None, 3, 10),
    INQUIRY_ANSWER: Rule(INQUIRY_ANSWER, 15, None, 3, 10),
    INQUIRY_REPORT: Rule(INQUIRY_REPORT, None, 1, 5, 10),
    # The due date is set by the assigning office; only the warning and overdue levels apply.
    ASSIGNMENT: Rule(ASSIGNMENT, None, None, 3, 10),
    FEEDBACK: Rule(FEEDBACK, 15, None, 3, 10),
}

_cache: tuple[float, dict[str, Rule]] | None = None


def invalidate() -> None:
    global _cache
    _cache = None


def rules() -> dict[str, Rule]:
    global _cache
    now = time.monotonic()
    if _cache is not None and now - _cache[0] < 60:
        return _cache[1]
    from qingfeng.deadlines.models import DeadlineRule

    merged = dict(DEFAULT_RULES)
    for row in DeadlineRule.objects.all():
        base = merged.get(row.kind)
        if base is None:
            continue
        merged[row.kind] = Rule(
            row.kind,
            row.working_days if row.working_days is not None else base.working_days,
            row.months if row.months is not None else base.months,
            row.warn_working_days,
            row.serious_working_days,
        )
    _cache = (now, merged)
    return merged


def rule(kind: str) -> Rule:
    return rules()[kind]

"""Deadline bookkeeping on cases.

Transitions set the due date of a deadline when its clock starts (`case_start_deadline`);
`case_refresh_next_deadline` then stores the earliest deadline still open, with its
warning and serious-overdue points, in indexed columns. `check_deadlines` walks those
columns and notifies the responsible office once per level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qingfeng.cases.choices import DisposalWay, Status
from qingfeng.cases.models import Case
from qingfeng.deadlines import rules
from qingfeng.notifications.models import Notification
from qingfeng.notifications.services import notification_create

log = logging.getLogger(__name__)

DUE_FIELDS = {
    rules.SCREENING: "screening_due",
    rules.ACCEPT: "accept_due",
    rules.ACCEPTANCE_NOTICE: "acceptance_notice_due",
    rules.INQUIRY_ANSWER: "inquiry_answer_due",
    rules.INQUIRY_REPORT: "inquiry_report_due",
    rules.ASSIGNMENT: "assignment_due",
    rules.FEEDBACK: "feedback_due",
}
REFRESH_FIELDS = ["next_due", "next_due_kind", "next_warn_on", "next_serious_on", "deadline_level"]

_BEFORE_ACCEPTANCE = {Status.RECEIVED, Status.SCREENED}
_DONE = {Status.CONCLUDED, Status.FED_BACK, Status.ARCHIVED, Status.NOT_ACCEPTED, Status.REPEAT}


def case_start_deadline(case: Case, kind: str, anchor: date, *, due: date | None = None) -> date:
    """Start a deadline's clock at `anchor` (or set an explicit due date). Does not save."""
    value = due or rules.rule(kind).due_from(anchor)
    setattr(case, DUE_FIELDS[kind], value)
    return value


def open_deadlines(case: Case) -> dict[str, date]:
    """The deadlines that still bind the holding office, given the case's state."""
    status = case.status
    out: dict[str, date] = {}
    if status in _BEFORE_ACCEPTANCE:
        if case.accept_due:
            out[rules.ACCEPT] = case.accept_due
        elif case.screening_due:
            out[rules.SCREENING] = case.screening_due
    if (
        case.acceptance_notice_due
        and case.is_real_name
        and not case.is_repeat
        and case.acceptance_notified_at is None
        and status not in _DONE
    ):
        out[rules.ACCEPTANCE_NOTICE] = case.acceptance_notice_due
    if status == Status.DISPOSED and case.disposal_way == DisposalWay.INQUIRY and not case.inquiry_outcome:
        if case.inquiry_answer_due:
            out[rules.INQUIRY_ANSWER] = case.inquiry_answer_due
        if case.inquiry_report_due:
            out[rules.INQUIRY_REPORT] = case.inquiry_report_due
    if case.assignment_due and status not in _DONE:
        out[rules.ASSIGNMENT] = case.assignment_due
    if status == Status.CONCLUDED and case.is_real_name and case.feedback_due:
        out[rules.FEEDBACK] = case.feedback_due
    return out


def case_refresh_next_deadline(case: Case) -> None:
    """Store the earliest open deadline in the indexed columns. Does not save."""
    open_ = open_deadlines(case)
    previous = case.next_due
    if not open_:
        case.next_due = case.next_warn_on = case.next_serious_on = None
        case.next_due_kind = ""
        case.deadline_level = 0
        return
    kind, due = min(open_.items(), key=lambda item: item[1])
    rule = rules.rule(kind)
    case.next_due, case.next_due_kind = due, kind
    case.next_warn_on = rule.warn_on(due)
    case.next_serious_on = rule.serious_on(due)
    if previous != due:
        case.deadline_level = 0


@dataclass(frozen=True)
class Level:
    value: int
    name: str


OK, WARN, OVERDUE, SERIOUS = Level(0, "ok"), Level(1, "warn"), Level(2, "overdue"), Level(3, "serious")
LEVELS = {lvl.value: lvl for lvl in (OK, WARN, OVERDUE, SERIOUS)}


def level_on(case: Case, today: date) -> Level:
    if case.next_due is None:
        return OK
    if case.next_serious_on and today > case.next_serious_on:
        return SERIOUS
    if today > case.next_due:
        return OVERDUE
    if case.next_warn_on and today >= case.next_warn_on:
        return WARN
    return OK


_MESSAGES = {
    WARN.value: _("Case %(number)s: “%(what)s” is due on %(due)s."),
    OVERDUE.value: _("Case %(number)s is overdue: “%(what)s” was due on %(due)s."),
    SERIOUS.value: _("Case %(number)s is seriously overdue: “%(what)s” was due on %(due)s."),
}


def check_deadlines(*, today: date | None = None, batch_size: int = 500) -> dict[str, int]:
    """Notify holding offices of cases that reached a new deadline level. Safe to run concurrently.

    Each case moves to its new level with a conditional UPDATE (healthchecks' pattern): if
    another worker got there first, zero rows change and this one sends nothing.
    """
    today = today or timezone.localdate()
    counts = {"warn": 0, "overdue": 0, "serious": 0}
    candidates = (
        Case.objects.filter(next_warn_on__lte=today, next_due__isnull=False, deadline_level__lt=SERIOUS.value)
        .only(
            "id",
            "number",
            "holding_office_id",
            "next_due",
            "next_due_kind",
            "next_warn_on",
            "next_serious_on",
            "deadline_level",
        )
        .order_by("id")
    )
    last_id = 0
    while True:
        chunk = list(candidates.filter(id__gt=last_id)[:batch_size])
        if not chunk:
            break
        last_id = chunk[-1].id
        for case in chunk:
            level = level_on(case, today)
            if level.value <= case.deadline_level:
                continue
            with transaction.atomic():
                changed = Case.objects.filter(
                    id=case.id, deadline_level=case.deadline_level, next_due=case.next_due
                ).update(deadline_level=level.value)
                if changed != 1:
                    continue
                kind = Notification.Kind.DEADLINE_WARNING if level is WARN else Notification.Kind.DEADLINE_OVERDUE
                notification_create(
                    office_id=case.holding_office_id,
                    kind=kind,
                    case_id=case.id,
                    message=_MESSAGES[level.value]
                    % {
                        "number": case.number,
                        "what": rules.LABELS.get(case.next_due_kind, case.next_due_kind),
                        "due": case.next_due,
                    },
                    dedupe_key=f"deadline:{case.id}:{case.next_due_kind}:{case.next_due}:{level.value}",
                )
            counts[level.name] += 1
    log.info("check_deadlines %s: %s", today, counts)
    return counts

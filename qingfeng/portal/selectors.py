"""Reads for the portal: what a reporter may see of their case, in plain words, and the staff panel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from qingfeng.accounts.models import User
from qingfeng.cases.choices import NotAcceptedReason, Status
from qingfeng.cases.models import Case, CaseEvent
from qingfeng.cases.workflow import Action
from qingfeng.portal.models import CaseMessage, ReceiptCode
from qingfeng.portal.services import (
    CONCLUDED_STATES,
    EVENT_REPORTER_ADDED,
    EVENT_REPORTER_RETURN_VISIT,
    ISSUE_ROLES,
    REPLY_ROLES,
    return_visit_answered,
)

S = Status

# The reporter's view of the workflow: a few steps in plain words, never the internal states
# (screening, shelving, disposal ways and transfers are the office's business).
STEPS: list[tuple[str, Promise]] = [
    ("received", pgettext_lazy("portal", "Received")),
    ("accepted", pgettext_lazy("portal", "Accepted")),
    ("handling", pgettext_lazy("portal", "Being handled")),
    ("concluded", pgettext_lazy("portal", "Concluded")),
]
_STEP_OF: dict[str, str] = {
    S.RECEIVED: "received",
    S.SCREENED: "received",
    S.ACCEPTED: "accepted",
    S.DISPOSED: "handling",
    S.SHELVED: "handling",
    S.CONCLUDED: "concluded",
    S.FED_BACK: "concluded",
    S.ARCHIVED: "concluded",
}

_TEXTS: dict[str, Promise] = {
    "received": gettext_lazy(
        "Your report has been received and registered. The office is examining it to decide whether it is "
        "within its remit and which office is competent to handle it."
    ),
    "accepted": gettext_lazy("Your report has been accepted and passed to the department that will handle it."),
    "handling": gettext_lazy(
        "Your report is being handled. Handling can take several months; you can send the office new facts or "
        "evidence at any time."
    ),
    "concluded": gettext_lazy("Handling of your report has been concluded. The result is shown below."),
    "not_accepted": gettext_lazy("Your report was not accepted."),
    "repeat": gettext_lazy(
        "Your report concerns a matter that was reported before. It has been added to the file of the earlier "
        "report and will be considered in its handling."
    ),
}

_NOT_ACCEPTED_ADVICE: dict[str, Promise] = {
    NotAcceptedReason.LITIGATION: gettext_lazy(
        "The matter belongs to litigation, arbitration or administrative review. Please turn to the people's "
        "court, an arbitration commission or the administrative review body, which can decide it."
    ),
    NotAcceptedReason.OTHER_BODY: gettext_lazy(
        "The matter is within another authority's remit (for example the public security organs, the "
        "procuratorate, or the government department in charge). Please turn to that authority."
    ),
    NotAcceptedReason.NO_SUBSTANCE: gettext_lazy(
        "The report did not contain concrete facts that could be checked. You may file a new report saying who "
        "did what, when and where, with any evidence you have."
    ),
}


@dataclass
class PublicStatus:
    key: str  # received, accepted, handling, concluded, not_accepted, repeat
    label: str
    text: str
    step: str  # the step of STEPS reached ("" for not accepted)
    not_accepted_advice: str = ""
    conclusion: str = ""
    feedback: str = ""
    concluded: bool = False


def _last_after_reopen(case: Case, action: str) -> CaseEvent | None:
    """The latest event of an action since the case was last reopened."""
    events = list(case.events.filter(action__in=(action, Action.REOPEN)).order_by("-created_at", "-id")[:1])
    return events[0] if events and events[0].action == action else None


def public_status(case: Case) -> PublicStatus:
    status = case.status
    not_accepted = status == S.NOT_ACCEPTED or (
        status in (S.FED_BACK, S.ARCHIVED) and case.concluded_at is None and bool(case.not_accepted_reason)
    )
    repeat = status == S.REPEAT or (status == S.ARCHIVED and case.is_repeat and case.concluded_at is None)
    feedback_event = _last_after_reopen(case, Action.FEED_BACK) if status in (S.FED_BACK, S.ARCHIVED) else None
    feedback = feedback_event.reason if feedback_event else ""
    if not_accepted:
        reason = case.not_accepted_reason
        return PublicStatus(
            key="not_accepted",
            label=_("Not accepted"),
            text=str(_TEXTS["not_accepted"]),
            step="",
            not_accepted_advice=str(_NOT_ACCEPTED_ADVICE.get(reason, "")),
            feedback=feedback,
            concluded=True,
        )
    if repeat:
        return PublicStatus(
            key="repeat", label=str(pgettext_lazy("portal", "Received")), text=str(_TEXTS["repeat"]), step="received"
        )
    step = _STEP_OF.get(status, "received")
    label = dict(STEPS)[step]
    concluded = status in CONCLUDED_STATES
    return PublicStatus(
        key=step,
        label=str(label),
        text=str(_TEXTS[step]),
        step=step,
        conclusion=case.conclusion if concluded else "",
        feedback=feedback if concluded else "",
        concluded=concluded,
    )


def step_rows(status: PublicStatus) -> list[dict[str, Any]]:
    """The steps with done / current flags, for the progress bar."""
    keys = [k for k, _label in STEPS]
    reached = keys.index(status.step) if status.step in keys else -1
    return [
        {"key": k, "label": label, "done": i < reached or status.key == "concluded", "current": i == reached}
        for i, (k, label) in enumerate(STEPS)
    ]


def case_messages(case: Case) -> QuerySet[CaseMessage]:
    return CaseMessage.objects.filter(case=case).order_by("created_at", "id")


def reporter_additions(case: Case) -> QuerySet[CaseEvent]:
    return case.events.filter(action=EVENT_REPORTER_ADDED).order_by("created_at", "id")


@dataclass
class ReturnVisit:
    open: bool  # the questions can be answered now
    answered: bool
    problem_solved: bool | None = None
    satisfaction: int | None = None


def return_visit_state(case: Case) -> ReturnVisit:
    if case.status not in CONCLUDED_STATES:
        return ReturnVisit(open=False, answered=False)
    answered = return_visit_answered(case)
    if answered:
        return ReturnVisit(
            open=False, answered=True, problem_solved=case.problem_solved, satisfaction=case.satisfaction
        )
    return ReturnVisit(open=True, answered=False)


def active_receipt(*, receipt_id: int, case_id: int) -> ReceiptCode | None:
    return (
        ReceiptCode.objects.select_related("case", "case__holding_office")
        .filter(pk=receipt_id, case_id=case_id, revoked_at__isnull=True)
        .first()
    )


# --- the staff panel ---------------------------------------------------------------------------


@dataclass
class StaffPanel:
    case: Case
    held_here: bool
    can_issue: bool
    can_reply: bool
    has_code: bool
    code_issued_at: datetime | None
    messages: list[CaseMessage] = field(default_factory=list)
    unread: int = 0
    additions: list[CaseEvent] = field(default_factory=list)


def staff_panel(*, case: Case, user: User) -> StaffPanel:
    """What the staff case page shows of the portal. Messages only to the holding office (need to know)."""
    held_here = user.office_id is not None and user.office_id == case.holding_office_id
    receipt = ReceiptCode.objects.filter(case=case, revoked_at__isnull=True).only("issued_at").first()
    panel = StaffPanel(
        case=case,
        held_here=held_here,
        can_issue=held_here and user.has_role(*ISSUE_ROLES),
        can_reply=held_here and user.has_role(*REPLY_ROLES),
        has_code=receipt is not None,
        code_issued_at=receipt.issued_at if receipt else None,
    )
    if held_here:
        panel.messages = list(case_messages(case).select_related("author"))
        panel.unread = sum(
            1 for m in panel.messages if m.direction == CaseMessage.Direction.FROM_REPORTER and m.read_at is None
        )
        panel.additions = list(reporter_additions(case))
    return panel


def return_visit_events(case: Case) -> QuerySet[CaseEvent]:
    return case.events.filter(action=EVENT_REPORTER_RETURN_VISIT).order_by("created_at", "id")

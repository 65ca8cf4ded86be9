"""Context for the two panels other pages include (home page, case page) and their fragments."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from qingfeng.accounts.models import User
from qingfeng.cases.models import Case
from qingfeng.offices.models import Office
from qingfeng.supervision.forms import AcknowledgeForm, ChaseForm, CloseForm, MarkForm
from qingfeng.supervision.links import case_url, poll_seconds
from qingfeng.supervision.permissions import (
    ACKNOWLEDGE_ROLES,
    SUPERVISE_ROLES,
    can_acknowledge,
    can_supervise,
)
from qingfeng.supervision.selectors import (
    case_chases,
    case_marks,
    mark_is_overdue,
    marks_on_held_cases,
    sent_down_summary,
    unseen_chase_count,
    unseen_chases,
)


def safe_next(request: HttpRequest, url: str | None, fallback: str) -> str:
    allowed = {request.get_host()}
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=allowed, require_https=request.is_secure()):
        return url
    return fallback


def page_path(request: HttpRequest, fallback: str, *, fragment: bool) -> str:
    """Where forms inside a panel send the user back: the page that shows the panel.

    A polled fragment is requested by that page: htmx names it in HX-Current-URL, and a
    plain fetch in the Referer.
    """
    if not fragment:
        return request.get_full_path()
    referer = request.headers.get("HX-Current-URL") or request.headers.get("Referer") or ""
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return fallback


def case_panel_context(
    request: HttpRequest,
    case: Case,
    *,
    mark_form: MarkForm | None = None,
    chase_form: ChaseForm | None = None,
    fragment: bool = False,
) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    today = timezone.localdate()
    supervisor = user.has_role(*SUPERVISE_ROLES)
    mark_rows = list(case_marks(case))
    marks = [
        {
            "mark": m,
            "overdue": mark_is_overdue(m, today),
            "can_close": m.closed_at is None and supervisor and m.office_id == user.office_id,
        }
        for m in mark_rows
    ]
    chases = [
        {"chase": c, "can_ack": c.seen_at is None and can_acknowledge(user=user, office_id=c.target_office_id)}
        for c in case_chases(case)
    ]
    return {
        "case": case,
        "marks": marks,
        "open_marks": sum(1 for m in mark_rows if m.closed_at is None),
        "chases": chases,
        "can_supervise": can_supervise(user=user, case=case),
        # One open mark per office: once ours is open, the page offers chasing and closing, not a second mark.
        "has_our_mark": any(m.closed_at is None and m.office_id == user.office_id for m in mark_rows),
        "is_holder": user.office_id == case.holding_office_id,
        "mark_form": mark_form or MarkForm(),
        "chase_form": chase_form or ChaseForm(),
        "close_form": CloseForm(),
        "ack_form": AcknowledgeForm(),
        "poll_seconds": poll_seconds(),
        "next": page_path(request, case_url(case.number), fragment=fragment),
    }


def home_panel_context(request: HttpRequest, *, fragment: bool = False) -> dict[str, Any] | None:
    """Open marks on our cases and unseen chases to us; for upper offices, sent-down counts."""
    user: User = request.user  # type: ignore[assignment]
    office = getattr(user, "office", None)
    if office is None:
        return None
    upper = office.level < Office.Level.SUBDISTRICT
    today = timezone.localdate()
    return {
        "office": office,
        "marks": [{"mark": m, "overdue": mark_is_overdue(m, today)} for m in marks_on_held_cases(office=office)],
        "chases": list(unseen_chases(office=office)),
        "unseen_count": unseen_chase_count(office=office),
        "summary": sent_down_summary(office=office) if upper else None,
        "can_ack": user.has_role(*ACKNOWLEDGE_ROLES),
        "ack_form": AcknowledgeForm(),
        "poll_seconds": poll_seconds(),
        "next": page_path(request, "/", fragment=fragment),
    }

"""Supervision pages, the fragments they poll, and the mark / chase / close / acknowledge forms.

Pages render the whole layout; each has a "live" part that the page re-fetches every
SUPERVISION_POLL_SECONDS (default 10) from a fragment URL, through htmx when the layout
loads it and through supervision/poll.js otherwise. Fragments answer 401 to an anonymous
request instead of redirecting to the login page, so a poll never pastes a login form.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qingfeng.accounts.models import User
from qingfeng.cases.models import Case
from qingfeng.cases.selectors import case_get_for_user
from qingfeng.core.errors import DomainError, NotFound, ValidationFailed
from qingfeng.deadlines import rules
from qingfeng.deadlines.services import open_deadlines
from qingfeng.offices.models import Office
from qingfeng.supervision import services
from qingfeng.supervision.forms import AcknowledgeForm, BoardForm, ChaseForm, CloseForm, MarkForm, SentDownFilterForm
from qingfeng.supervision.links import case_url, poll_seconds
from qingfeng.supervision.models import Chase, SupervisionMark
from qingfeng.supervision.panels import case_panel_context, home_panel_context, safe_next
from qingfeng.supervision.permissions import office_is_above
from qingfeng.supervision.selectors import (
    SentDownFilters,
    days_held,
    deadline_info,
    overdue_board,
    sent_down_cases,
)

PAGE_SIZE = 20
View = Callable[..., HttpResponse]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _office(request: HttpRequest) -> Office:
    office = _user(request).office
    if office is None:
        raise DjangoPermissionDenied(_("Your account belongs to no office; ask an administrator."))
    return office


def fragment_view(view: View) -> View:
    """GET only, and 401 rather than a login redirect for a poll without a session."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponse(status=401)
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    return require_GET(wrapper)


def _case(request: HttpRequest, number: str) -> Case:
    try:
        return case_get_for_user(user=_user(request), number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc


# --- the sent-down list --------------------------------------------------------------------


def _sent_down_context(request: HttpRequest) -> dict[str, Any]:
    office = _office(request)
    today = timezone.localdate()
    children = list(Office.objects.filter(parent=office).order_by("code").values_list("code", "name"))
    code = request.GET.get("office") or ""
    selected = None
    if code:
        selected = Office.objects.filter(code=code).first()
        if selected is None or not office_is_above(office, selected):
            selected = None
        elif code not in {c for c, _n in children}:
            children.append((selected.code, selected.name))
    form = SentDownFilterForm(request.GET or None, offices=children)
    data = form.cleaned_data if form.is_valid() else {}
    supervised = {"yes": True, "no": False}.get(data.get("supervised") or "")
    filters = SentDownFilters(
        status=list(data.get("status") or []),
        deadline=data.get("deadline") or None,
        supervised=supervised,
        holding_office=selected,
        q=data.get("q") or None,
        ordering=data.get("ordering") or "next_due",
    )
    page = Paginator(sent_down_cases(office=office, filters=filters, today=today), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [{"case": c, "deadline": deadline_info(c, today), "days_held": days_held(c, today)} for c in page]
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "office": office,
        "form": form,
        "page": page,
        "rows": rows,
        "today": today,
        "query": query.urlencode(),
        "poll_seconds": poll_seconds(),
    }


@login_required
@require_GET
def sent_down(request: HttpRequest) -> HttpResponse:
    return render(request, "supervision/sent_down.html", _sent_down_context(request))


@fragment_view
def sent_down_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "supervision/_sent_down_table.html", _sent_down_context(request))


# --- the overdue board -----------------------------------------------------------------------


def _board_context(request: HttpRequest) -> dict[str, Any]:
    office = _office(request)
    today = timezone.localdate()
    form = BoardForm(request.GET or None)
    by = form.cleaned_data["by"] if form.is_valid() else "child"
    rows = overdue_board(office=office, today=today, by=by)
    return {
        "office": office,
        "form": form,
        "by": by,
        "rows": rows,
        "today": today,
        "totals": {
            "total": sum(r.total for r in rows),
            "serious": sum(r.serious for r in rows),
            "overdue_only": sum(r.overdue_only for r in rows),
        },
        "poll_seconds": poll_seconds(),
    }


@login_required
@require_GET
def overdue(request: HttpRequest) -> HttpResponse:
    return render(request, "supervision/overdue.html", _board_context(request))


@fragment_view
def overdue_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "supervision/_overdue_board.html", _board_context(request))


# --- the holding office's view -----------------------------------------------------------------


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    office = _office(request)
    received = (
        Chase.objects.filter(target_office=office).select_related("case", "office", "seen_by").order_by("-created_at")
    )
    return render(request, "supervision/mine.html", {"office": office, "received": received[:50]})


@fragment_view
def home_panel_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "supervision/_home_panel_body.html", {"sv": home_panel_context(request, fragment=True)})


# --- a case: page, fragment, forms -----------------------------------------------------------


def _case_page(request: HttpRequest, case: Case, *, status: int = 200, **forms: Any) -> HttpResponse:
    today = timezone.localdate()
    deadlines = [
        {"label": rules.LABELS.get(kind, kind), "due": due, "late": due < today}
        for kind, due in sorted(open_deadlines(case).items(), key=lambda item: item[1])
    ]
    context = {
        "case": case,
        "deadline": deadline_info(case, today),
        "days_held": days_held(case, today),
        "deadlines": deadlines,
        "case_url": case_url(case.number),
        "sv_mark_form": forms.get("mark_form"),
        "sv_chase_form": forms.get("chase_form"),
    }
    return render(request, "supervision/case.html", context, status=status)


@login_required
@require_GET
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    return _case_page(request, _case(request, number))


@fragment_view
def case_fragment(request: HttpRequest, number: str) -> HttpResponse:
    sv = case_panel_context(request, _case(request, number), fragment=True)
    return render(request, "supervision/_case_panel_body.html", {"sv": sv})


def _run(
    request: HttpRequest,
    number: str,
    form: Any,
    action: Callable[[dict[str, Any]], object],
    success: str,
    form_key: str | None = None,
) -> HttpResponse:
    """Validate the form, run the service; on success go back, on failure show the case page."""
    case = _case(request, number)
    forms = {form_key: form} if form_key else {}
    if not form.is_valid():
        messages.error(request, _("Please correct the errors below."))
        return _case_page(request, case, status=422, **forms)
    try:
        action(form.cleaned_data)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ValidationFailed as exc:
        for field, errors in exc.fields.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        messages.error(request, _("Please correct the errors below."))
        return _case_page(request, case, status=exc.status_code, **forms)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _case_page(request, case, status=exc.status_code, **forms)
    messages.success(request, success)
    return redirect(safe_next(request, request.POST.get("next"), case_url(number)))


@login_required
@require_POST
def mark(request: HttpRequest, number: str) -> HttpResponse:
    return _run(
        request,
        number,
        MarkForm(request.POST),
        lambda d: services.mark_create(case_number=number, actor=_user(request), **d),
        _("The case is now under your office's supervision."),
        form_key="mark_form",
    )


@login_required
@require_POST
def chase(request: HttpRequest, number: str) -> HttpResponse:
    return _run(
        request,
        number,
        ChaseForm(request.POST),
        lambda d: services.chase_create(case_number=number, actor=_user(request), **d),
        _("The holding office has been chased."),
        form_key="chase_form",
    )


@login_required
@require_POST
def close(request: HttpRequest, number: str, mark_id: int) -> HttpResponse:
    if not SupervisionMark.objects.filter(pk=mark_id, case__number=number).exists():
        raise Http404
    return _run(
        request,
        number,
        CloseForm(request.POST),
        lambda d: services.mark_close(mark_id=mark_id, actor=_user(request), **d),
        _("The supervision is closed."),
    )


@login_required
@require_POST
def seen(request: HttpRequest, number: str, chase_id: int) -> HttpResponse:
    if not Chase.objects.filter(pk=chase_id, case__number=number).exists():
        raise Http404
    return _run(
        request,
        number,
        AcknowledgeForm(request.POST),
        lambda d: services.chase_acknowledge(chase_id=chase_id, actor=_user(request), **d),
        _("The chase is acknowledged; the chasing office has been told."),
    )

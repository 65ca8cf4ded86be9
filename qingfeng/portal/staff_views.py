"""Staff side of the portal: receipt slips, the reporter's messages and the office's replies.

Signed-in staff only; every case is looked up through cases.selectors.case_get_for_user, so an
office that may not read a case gets a plain 404. The panel template
``portal/_staff_case_panel.html`` is meant to be included on the staff case page; until it is,
``staff/cases/<number>/`` shows it on a page of its own.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from qingfeng.accounts.models import User
from qingfeng.cases.selectors import case_get_for_user
from qingfeng.core.errors import DomainError, NotFound, ValidationFailed
from qingfeng.portal import receipts, services
from qingfeng.portal.forms import OfficeReplyForm


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    status = exc.status_code if exc.status_code in (403, 404, 409, 422) else 400
    title = _("Not found") if status == 404 else _("Not possible")
    return render(request, "portal/staff_error.html", {"title": title, "message": exc.message}, status=status)


def _not_found(request: HttpRequest, number: str) -> HttpResponse:
    return _error(request, NotFound(_("No case %(number)s is visible to your office.") % {"number": number}))


def _back(request: HttpRequest, number: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("portal:staff-case", args=[number])


@login_required
@require_GET
def staff_case(request: HttpRequest, number: str) -> HttpResponse:
    try:
        case = case_get_for_user(user=_user(request), number=number)
    except NotFound:
        return _not_found(request, number)
    return render(request, "portal/staff_case.html", {"case": case})


@never_cache
@login_required
@require_POST
def staff_receipt(request: HttpRequest, number: str) -> HttpResponse:
    """Issue (or re-issue) the case's receipt code and show the printable slip. The code is not kept."""
    try:
        case, code = services.receipt_issue(case_number=number, user=_user(request))
    except NotFound:
        return _not_found(request, number)
    except DomainError as exc:
        return _error(request, exc)
    follow_up_url = request.build_absolute_uri(reverse("portal:follow-up"))
    return render(
        request,
        "portal/slip.html",
        {
            "case": case,
            "code": code,
            "follow_up_url": follow_up_url,
            "issued_on": timezone.localdate(),
            "code_digits": receipts.CODE_DIGITS,
        },
    )


@login_required
@require_POST
def staff_reply(request: HttpRequest, number: str) -> HttpResponse:
    form = OfficeReplyForm(request.POST)
    if not form.is_valid():
        message = " ".join(str(m) for errs in form.errors.values() for m in errs)
        return _error(request, ValidationFailed(message=message))
    try:
        services.office_message_send(case_number=number, user=_user(request), body=form.cleaned_data["body"])
    except NotFound:
        return _not_found(request, number)
    except DomainError as exc:
        return _error(request, exc)
    return redirect(_back(request, number) + "#portal-panel")


@login_required
@require_POST
def staff_mark_read(request: HttpRequest, number: str) -> HttpResponse:
    try:
        services.office_messages_mark_read(case_number=number, user=_user(request))
    except NotFound:
        return _not_found(request, number)
    except DomainError as exc:
        return _error(request, exc)
    return redirect(_back(request, number) + "#portal-panel")

"""Pages: identity access requests and decisions, the audit log search, two-factor setup and verification."""

from __future__ import annotations

from base64 import b32encode
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qingfeng.accounts.models import Role
from qingfeng.core.errors import DomainError, ValidationFailed
from qingfeng.protection.models import AuditEntry
from qingfeng.protection.selectors import (
    AuditFilters,
    audit_search,
    can_request_identity,
    pending_request,
    requests_for_leader,
)
from qingfeng.protection.services import identity_request_create, identity_request_decide
from qingfeng.web.views.common import error_page, office_required, staff_user, visible_case

AUDIT_PAGE_SIZE = 50


class IdentityRequestForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why do you need the reporter's identity?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject"))])
    reason = forms.CharField(
        label=gettext_lazy("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    days = forms.IntegerField(label=gettext_lazy("Days of access"), min_value=1, max_value=30, required=False)


@office_required
def identity_request(request: HttpRequest, number: str) -> HttpResponse:
    user = staff_user(request)
    case = visible_case(user, number)
    if not can_request_identity(user, case):
        return error_page(request, _("You cannot request the reporter's identity on this case."), status=403)
    pending = pending_request(user, case)
    form = IdentityRequestForm(request.POST or None)
    status = 200
    if request.method == "POST" and pending is None:
        if form.is_valid():
            try:
                identity_request_create(case=case, requester=user, reason=form.cleaned_data["reason"])
            except ValidationFailed as exc:
                for field, msgs in exc.fields.items():
                    for msg in msgs:
                        form.add_error(field if field in form.fields else None, msg)
            except DomainError as exc:
                return error_page(request, exc.message, status=exc.status_code)
            else:
                messages.success(request, _("Your request was sent to the leaders of the office holding the case."))
                return redirect(reverse("web:case-detail", args=[case.number]))
        status = 422
    return render(
        request, "protection/request_form.html", {"case": case, "form": form, "pending": pending}, status=status
    )


@office_required
def request_queue(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if not user.has_role(Role.LEADER):
        return error_page(request, _("Only commission leaders decide identity requests."), status=403)
    rows = list(requests_for_leader(user))
    return render(request, "protection/queue.html", {"requests": rows, "form": DecisionForm()})


@office_required
@require_POST
def request_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    user = staff_user(request)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect(reverse("protection:queue"))
    try:
        identity_request_decide(
            request_id=request_id,
            leader=user,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data.get("reason") or "",
            days=form.cleaned_data.get("days"),
        )
    except ValidationFailed as exc:
        msgs = [m for ms in exc.fields.values() for m in ms]
        messages.error(request, " ".join(msgs) or exc.message)
        return redirect(reverse("protection:queue"))
    except DomainError as exc:
        return error_page(request, exc.message, status=exc.status_code)
    messages.success(request, _("Decision recorded."))
    return redirect(reverse("protection:queue"))


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=gettext_lazy("Actor (username or id)"), required=False, max_length=150)
    action = forms.CharField(label=gettext_lazy("Action"), required=False, max_length=64)
    case_number = forms.CharField(label=gettext_lazy("Case number"), required=False, max_length=40)
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if not user.has_role(Role.AUDITOR):
        return error_page(request, _("Only auditors can search the audit log."), status=403)
    form = AuditFilterForm(request.GET)
    page = None
    status = 400
    if form.is_valid():
        d: dict[str, Any] = form.cleaned_data
        date_from: date | None = d.get("date_from")
        date_to: date | None = d.get("date_to")
        filters = AuditFilters(
            actor=d.get("actor") or "",
            action=d.get("action") or "",
            case_number=d.get("case_number") or "",
            date_from=date_from,
            date_to=date_to,
        )
        page = Paginator(audit_search(filters), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
        status = 200
    params = request.GET.copy()
    params.pop("page", None)
    actions = AuditEntry.objects.order_by().values_list("action", flat=True).distinct()
    return render(
        request,
        "protection/audit.html",
        {"form": form, "page": page, "query": params.urlencode(), "actions": sorted(set(actions))},
        status=status,
    )


# --- two-factor sign-in --------------------------------------------------------------------------


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=gettext_lazy("6-digit code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return "/"
    return target


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = staff_user(request)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect(f"{reverse('protection:2fa-verify')}?next={_next(request)}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, _("Two-factor sign-in is set up."))
            return redirect(_next(request))
        form.add_error("token", _("That code is not right; check the time on your phone and try again."))
        status = 422
    context = {
        "form": form,
        "otpauth_uri": device.config_url,
        "secret": b32encode(device.bin_key).decode("ascii").rstrip("="),
        "next": _next(request),
    }
    return render(request, "protection/2fa_setup.html", context, status=status)


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = staff_user(request)
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return redirect(f"{reverse('protection:2fa-setup')}?next={_next(request)}")
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            token = form.cleaned_data["token"].strip()
            for device in devices:
                if device.verify_token(token):
                    otp_login(request, device)
                    return redirect(_next(request))
        form.add_error("token", _("That code is not right; check the time on your phone and try again."))
        status = 422
    return render(request, "protection/2fa_verify.html", {"form": form, "next": _next(request)}, status=status)

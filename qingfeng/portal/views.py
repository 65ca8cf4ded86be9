"""Public pages: file a report, get the receipt, follow the case up with the receipt code.

Everything works without JavaScript. Pages that show a receipt code or a case are never cached
(`never_cache`). A follow-up session is a signed, time-stamped marker in the session naming the
receipt code row; re-issuing the code revokes that row and ends the session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qingfeng.core.errors import DomainError, TooLarge, ValidationFailed
from qingfeng.portal import regions, selectors, services
from qingfeng.portal.forms import TOKEN_PATTERN, FollowUpForm, InformationForm, MessageForm, ReportForm, ReturnVisitForm
from qingfeng.portal.models import ReceiptCode
from qingfeng.portal.throttling import TooManyAttempts, client_ip

SESSION_KEY = "qingfeng.portal.follow_up"
SESSION_SALT = "qingfeng.portal.follow-up"
REFINE = "_refine"
# cases.attachments.ALLOWED_DESCRIPTION, translatable (a test keeps the two in step).
ALLOWED_TYPES = gettext_lazy(
    "PDF, JPEG, PNG, GIF, TIFF, WebP, Word/Excel (doc, docx, xls, xlsx), MP3, WAV, MP4 or plain text"
)

View = Callable[..., HttpResponseBase]


def session_seconds() -> int:
    return int(getattr(settings, "QINGFENG_PORTAL_SESSION_SECONDS", 30 * 60))


def max_request_bytes() -> int:
    """The largest request body read at all; bigger ones get 413 before anything is uploaded."""
    default = settings.ATTACHMENT_MAX_BYTES * 3
    return int(getattr(settings, "QINGFENG_PORTAL_MAX_REQUEST_BYTES", default))


def _too_large_page(request: HttpRequest) -> HttpResponse:
    message = _(
        "The files you attached are too large together (the limit is %(total)s per submission and %(each)s per "
        "file). Go back with your browser's Back button, remove or shrink some files, and send again: what you "
        "typed is normally still there."
    ) % {"total": filesizeformat(max_request_bytes()), "each": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}
    return render(request, "portal/error.html", {"title": _("Files too large"), "message": message}, status=413)


def limit_body(view: View) -> View:
    """Refuse an oversized POST from its Content-Length, before the body is read."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > max_request_bytes():
                return _too_large_page(request)
        return view(request, *args, **kwargs)

    return wrapped


def _with_retry_after(response: HttpResponse, exc: TooManyAttempts) -> HttpResponse:
    response["Retry-After"] = str(exc.retry_after)
    return response


def _guidance() -> dict[str, Any]:
    return {
        "allowed_types": ALLOWED_TYPES,
        "max_file": filesizeformat(settings.ATTACHMENT_MAX_BYTES),
        "max_files": settings.ATTACHMENT_MAX_COUNT,
    }


# --- filing ---------------------------------------------------------------------------------------


def _report_page(request: HttpRequest, form: ReportForm, *, status: int = 200, **extra: Any) -> HttpResponse:
    context = {"form": form, "token": form.token_value, "refine": REFINE, **_guidance(), **extra}
    return render(request, "portal/report.html", context, status=status)


@never_cache
@limit_body
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _report_page(request, ReportForm())
    had_files = bool(request.FILES)
    if REFINE in request.POST:  # the no-JavaScript region lists were updated: nothing is checked yet
        return _report_page(request, ReportForm(request.POST), files_dropped=had_files)
    form = ReportForm(request.POST, request.FILES)
    token = request.POST.get("token", "")
    if not TOKEN_PATTERN.match(token):
        form.is_valid()
        return _report_page(
            request,
            form,
            status=400,
            banner=_("The form had expired. Check your entries and send it again."),
            files_dropped=had_files,
        )
    if not form.is_valid():
        # A retry of a submission that did go through shows its receipt even if the form now differs.
        return _report_page(
            request,
            form,
            status=422,
            banner=_("Your report has not been sent yet: please correct the fields marked below."),
            files_dropped=had_files,
        )
    data = form.to_input()
    try:
        receipt = services.report_submit(data=data, token=token, via="form", client=client_ip(request))
    except TooManyAttempts as exc:
        return _with_retry_after(_report_page(request, form, status=429, banner=exc.message), exc)
    except TooLarge as exc:
        form.add_error("attachments", exc.message)
        return _report_page(request, form, status=413, banner=exc.message, files_dropped=had_files)
    except ValidationFailed as exc:
        form.apply_domain_errors(exc.fields)
        banner = _("Your report has not been sent yet: please correct the fields marked below.")
        return _report_page(request, form, status=422, banner=banner, files_dropped=had_files)
    except services.PortalUnavailable as exc:
        return render(request, "portal/error.html", {"title": _("Not available"), "message": exc.message}, status=503)
    return render(request, "portal/receipt.html", {"receipt": receipt, "follow_up_url": _follow_up_url(request)})


def _follow_up_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("portal:follow-up"))


@require_GET
def region_children(request: HttpRequest, code: str) -> JsonResponse:
    """The cities of a province or the counties of a city, for the progressive region lists."""
    items = [{"code": r.code, "name": r.short_name} for r in regions.children_of(code)]
    response = JsonResponse({"code": code, "children": items})
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def guidance(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/guidance.html", _guidance())


# --- follow-up ------------------------------------------------------------------------------------


def _open_session(request: HttpRequest, receipt: ReceiptCode) -> None:
    request.session.cycle_key()  # a new session id once the reporter has proved the code
    request.session[SESSION_KEY] = signing.dumps({"r": receipt.pk, "c": receipt.case_id}, salt=SESSION_SALT)


def _session_receipt(request: HttpRequest) -> ReceiptCode | None:
    """The receipt code row this session proved, while fresh and not revoked; renews the marker."""
    value = request.session.get(SESSION_KEY)
    if not value:
        return None
    try:
        marker = signing.loads(value, salt=SESSION_SALT, max_age=session_seconds())
    except signing.BadSignature:  # expired or tampered
        request.session.pop(SESSION_KEY, None)
        return None
    receipt = selectors.active_receipt(receipt_id=int(marker["r"]), case_id=int(marker["c"]))
    if receipt is None:
        request.session.pop(SESSION_KEY, None)
        return None
    request.session[SESSION_KEY] = signing.dumps(marker, salt=SESSION_SALT)  # sliding expiry
    return receipt


@never_cache
@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        if _session_receipt(request) is not None:
            return redirect("portal:follow-up-case")
        return render(request, "portal/follow_up.html", {"form": FollowUpForm()})
    form = FollowUpForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            receipt = services.follow_up_verify(
                case_number=form.cleaned_data["case_number"],
                code=form.cleaned_data["receipt_code"],
                client=client_ip(request),
            )
        except ValidationFailed as exc:
            for name, msgs in exc.fields.items():
                for msg in msgs:
                    form.add_error(name if name in form.fields else None, msg)
        except TooManyAttempts as exc:
            form.add_error(None, exc.message)
            return _with_retry_after(render(request, "portal/follow_up.html", {"form": form}, status=429), exc)
        except services.WrongCode as exc:
            form.add_error(None, exc.message)
            status = 403
        else:
            _open_session(request, receipt)
            return redirect("portal:follow-up-case")
    return render(request, "portal/follow_up.html", {"form": form}, status=status)


def follow_up_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        receipt = _session_receipt(request)
        if receipt is None:
            messages.info(request, _("Enter your case number and receipt code to continue."))
            return redirect("portal:follow-up")
        return view(request, receipt, *args, **kwargs)

    return never_cache(wrapped)


def _case_page(request: HttpRequest, receipt: ReceiptCode, *, status: int = 200, **forms: Any) -> HttpResponse:
    case = receipt.case
    public = selectors.public_status(case)
    context = {
        "case": case,
        "public": public,
        "steps": selectors.step_rows(public),
        "messages_list": list(selectors.case_messages(case)),
        "additions": list(selectors.reporter_additions(case)),
        "return_visit": selectors.return_visit_state(case),
        "message_form": forms.get("message_form") or MessageForm(),
        "information_form": forms.get("information_form") or InformationForm(),
        "return_visit_form": forms.get("return_visit_form") or ReturnVisitForm(),
        "session_minutes": session_seconds() // 60,
        **_guidance(),
    }
    response = render(request, "portal/case.html", context, status=status)
    if request.method == "GET":
        services.reporter_messages_mark_read(case=case)
    return response


def _error_status(exc: DomainError) -> int:
    return exc.status_code if exc.status_code in (403, 409, 413, 422, 429) else 400


@follow_up_required
@require_GET
def follow_up_case(request: HttpRequest, receipt: ReceiptCode) -> HttpResponse:
    return _case_page(request, receipt)


@follow_up_required
@require_POST
def follow_up_message(request: HttpRequest, receipt: ReceiptCode) -> HttpResponse:
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.reporter_message_send(case=receipt.case, body=form.cleaned_data["body"])
        except DomainError as exc:
            form.add_error(None, exc.message)
            return _case_page(request, receipt, status=_error_status(exc), message_form=form)
        messages.success(request, _("Your message has been sent to the office."))
        return redirect(reverse("portal:follow-up-case") + "#messages")
    return _case_page(request, receipt, status=422, message_form=form)


@follow_up_required
@limit_body
@require_POST
def follow_up_information(request: HttpRequest, receipt: ReceiptCode) -> HttpResponse:
    form = InformationForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.information_add(
                case=receipt.case, text=form.cleaned_data["text"], files=form.cleaned_data["attachments"]
            )
        except ValidationFailed as exc:
            for name, msgs in exc.fields.items():
                for msg in msgs:
                    form.add_error(name if name in form.fields else None, msg)
            return _case_page(request, receipt, status=422, information_form=form)
        except DomainError as exc:
            form.add_error("attachments" if isinstance(exc, TooLarge) else None, exc.message)
            return _case_page(request, receipt, status=_error_status(exc), information_form=form)
        messages.success(request, _("Thank you: your information has been added to the case."))
        return redirect(reverse("portal:follow-up-case") + "#add-information")
    return _case_page(request, receipt, status=422, information_form=form)


@follow_up_required
@require_POST
def follow_up_return_visit(request: HttpRequest, receipt: ReceiptCode) -> HttpResponse:
    form = ReturnVisitForm(request.POST)
    if form.is_valid():
        try:
            services.return_visit_record(
                case=receipt.case,
                problem_solved=form.cleaned_data["problem_solved"],
                satisfaction=form.cleaned_data["satisfaction"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            return _case_page(request, receipt, status=_error_status(exc), return_visit_form=form)
        messages.success(request, _("Thank you for your answers."))
        return redirect(reverse("portal:follow-up-case") + "#result")
    return _case_page(request, receipt, status=422, return_visit_form=form)


@require_POST
def follow_up_leave(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    messages.info(request, _("You have left the case. Enter the number and code again to come back."))
    return redirect("portal:follow-up")

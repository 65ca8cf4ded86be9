"""The notifications page, mark read, mark all read, and the unread count polled by open pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qingfeng.accounts.models import User
from qingfeng.core.errors import NotFound
from qingfeng.notifications.selectors import notification_list, unread_count
from qingfeng.notifications.services import notification_mark_read, notifications_mark_all_read
from qingfeng.supervision.links import case_url, poll_seconds
from qingfeng.supervision.panels import safe_next

PAGE_SIZE = 30


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(notification_list(user=user, unread_only=unread_only), PAGE_SIZE).get_page(request.GET.get("page"))
    items = [{"n": n, "case_url": case_url(n.case.number) if n.case is not None else None} for n in page]
    context = {
        "page": page,
        "items": items,
        "unread": unread_count(user=user),
        "unread_only": unread_only,
        "poll_seconds": poll_seconds(),
    }
    return render(request, "supervision/notifications.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one read; with `open=1`, go on to its case."""
    try:
        n = notification_mark_read(notification_id=notification_id, user=_user(request))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    fallback = reverse("supervision:notifications")
    if request.POST.get("open") and n.case is not None:
        return redirect(case_url(n.case.number))
    return redirect(safe_next(request, request.POST.get("next"), fallback))


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    marked = notifications_mark_all_read(user=_user(request))
    messages.success(request, _("%(n)d notifications marked as read.") % {"n": marked})
    return redirect(safe_next(request, request.POST.get("next"), reverse("supervision:notifications")))


@require_GET
def unread_json(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"message": _("Log in first.")}, status=401)
    response = JsonResponse({"unread": unread_count(user=_user(request))})
    response["Cache-Control"] = "no-store"
    return response

"""Dashboard pages: overview with regional drill-down, trends and breakdowns; topics; warnings; reports.

Pages render every figure as a table from the count tables; ECharts (served locally from npm)
draws the charts on top when it is there. No page shows a reporter's identity.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qingfeng.analytics import alerts, reports, selectors
from qingfeng.analytics.api import report_response
from qingfeng.analytics.models import EarlyWarning, Topic
from qingfeng.analytics.periods import Period, parse_period
from qingfeng.analytics.permissions import (
    STATS_ROLES,
    TOPIC_ROLES,
    WARNING_ROLES,
    require,
    statistics_office,
)
from qingfeng.analytics.topics import topic_save
from qingfeng.cases.models import Category
from qingfeng.core.errors import DomainError
from qingfeng.offices.models import Office
from qingfeng.offices.selectors import office_ancestors


def _error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    fields = exc.extra.get("fields") or {}
    detail = " ".join(" ".join(v) for v in fields.values()) if fields else ""
    return render(
        request,
        "analytics/error.html",
        {"message": exc.message, "detail": detail, "title": _("Not possible")},
        status=exc.status_code,
    )


def _scope(request: HttpRequest) -> tuple[Office, Period]:
    office = statistics_office(request.user, request.GET.get("office"))  # type: ignore[arg-type]
    period = parse_period(request.GET.get("from"), request.GET.get("to"), today=timezone.localdate())
    return office, period


def _crumbs(request: HttpRequest, office: Office) -> list[Office]:
    own = getattr(request.user, "office", None)
    if own is None:
        return []
    return [o for o in office_ancestors(office) if o.path.startswith(own.path)]


def _filters(office: Office, period: Period) -> dict[str, str]:
    return {"office": office.code, "from": period.start.isoformat(), "to": period.end.isoformat()}


def _context(request: HttpRequest, office: Office, period: Period, **extra: Any) -> dict[str, Any]:
    query = _filters(office, period)
    return {
        "office": office,
        "period": period,
        "crumbs": _crumbs(request, office),
        "children": list(Office.objects.filter(parent=office).order_by("code").values_list("code", "name")),
        "query": query,
        "querystring": urlencode(query),
        "from_value": period.start.strftime("%Y-%m"),
        "to_value": period.end.strftime("%Y-%m"),
        **extra,
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        office, period = _scope(request)
    except DomainError as exc:
        return _error(request, exc)
    stats = selectors.standard_statistics(office=office, period=period)
    trend = selectors.monthly_trend(office=office, first=period.first_month, last=period.last_month)
    open_warnings = list(
        alerts.warnings_visible_to(office).filter(state=EarlyWarning.State.OPEN).select_related("office")[:8]
    )
    trend_rows = list(zip(trend["months"], trend["received"], trend["last_year"], trend["repeat"], strict=True))
    charts = {
        "trend": {
            "kind": "line",
            "labels": trend["months"],
            "series": {_("Received"): trend["received"], _("A year earlier"): trend["last_year"]},
        },
        "regions": {
            "kind": "treemap",
            "items": [
                {"name": r["label"], "value": r["count"], "code": r["code"]}
                for r in stats["region"]
                if not r.get("own_level")
            ],
            "link": reverse("analytics:dashboard")
            + "?"
            + urlencode({"from": period.start.isoformat(), "to": period.end.isoformat()}),
        },
        "category": {
            "kind": "hbar",
            "labels": [r["label"] for r in stats["category"]],
            "series": {_("Cases"): [r["count"] for r in stats["category"]]},
        },
        "key_area": {
            "kind": "hbar",
            "labels": [r["label"] for r in stats["key_area"]],
            "series": {_("Cases"): [r["count"] for r in stats["key_area"]]},
        },
        "channel": {
            "kind": "pie",
            "items": [{"name": r["label"], "value": r["count"]} for r in stats["channel"] if r["count"]],
        },
    }
    context = _context(
        request,
        office,
        period,
        stats=stats,
        trend_rows=trend_rows,
        charts=charts,
        warnings=open_warnings,
        topics=list(Topic.objects.filter(active=True)),
    )
    return render(request, "analytics/dashboard.html", context)


@login_required
def topic_list(request: HttpRequest) -> HttpResponse:
    try:
        office = require(request.user, STATS_ROLES, _("Topics are for users who see statistics."))  # type: ignore[arg-type]
    except DomainError as exc:
        return _error(request, exc)
    form: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    can_define = request.user.has_role(*TOPIC_ROLES)  # type: ignore[union-attr]
    if request.method == "POST":
        if not can_define:
            return _error(request, DomainError(_("Only analysts and leaders define special topics."), extra={}))
        form = {
            k: request.POST.get(k, "") for k in ("code", "name", "keywords", "categories", "regions", "description")
        }
        try:
            topic = topic_save(
                actor=request.user,  # type: ignore[arg-type]
                code=form["code"].strip(),
                name=form["name"],
                keywords=form["keywords"],
                categories=form["categories"],
                regions=form["regions"],
                description=form["description"],
            )
        except DomainError as exc:
            errors = exc.extra.get("fields") or {"__all__": [exc.message]}
        else:
            messages.success(
                request, _("Topic “%(name)s” saved; matching cases are being tagged.") % {"name": topic.name}
            )
            return HttpResponseRedirect(reverse("analytics:topic", args=[topic.code]))
    return render(
        request,
        "analytics/topics.html",
        {
            "office": office,
            "topics": Topic.objects.all(),
            "form": form,
            "errors": errors,
            "can_define": can_define,
            "categories": Category.objects.filter(active=True).values_list("code", "name"),
        },
        status=422 if errors else 200,
    )


@login_required
def topic_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        office, period = _scope(request)
    except DomainError as exc:
        return _error(request, exc)
    topic = Topic.objects.filter(code=code).first()
    if topic is None:
        return _error(request, DomainError(_("No topic %(code)s.") % {"code": code}))
    stats = selectors.topic_statistics(topic=topic, office=office, period=period)
    charts = {
        "trend": {
            "kind": "line",
            "labels": stats["trend"]["months"],
            "series": {_("Cases"): stats["trend"]["received"]},
        },
        "regions": {
            "kind": "bar",
            "labels": [r["label"] for r in stats["region"]],
            "series": {_("Cases"): [r["count"] for r in stats["region"]]},
        },
    }
    trend_rows = list(zip(stats["trend"]["months"], stats["trend"]["received"], strict=True))
    return render(
        request,
        "analytics/topic.html",
        _context(request, office, period, topic=topic, stats=stats, charts=charts, trend_rows=trend_rows),
    )


@login_required
def warning_list(request: HttpRequest) -> HttpResponse:
    try:
        office = statistics_office(request.user, request.GET.get("office"))  # type: ignore[arg-type]
    except DomainError as exc:
        return _error(request, exc)
    state = request.GET.get("state") or EarlyWarning.State.OPEN
    qs = alerts.warnings_visible_to(office).select_related("office", "acted_by").prefetch_related("cases")
    if state != "all":
        qs = qs.filter(state=state)
    return render(
        request,
        "analytics/warnings.html",
        {
            "office": office,
            "warnings": list(qs.order_by("-as_of", "-score")[:100]),
            "state": state,
            "states": [
                ("open", _("Open")),
                ("acknowledged", _("Acknowledged")),
                ("dismissed", _("Dismissed")),
                ("all", _("All")),
            ],
            "can_decide": request.user.has_role(*WARNING_ROLES),  # type: ignore[union-attr]
        },
    )


@login_required
@require_POST
def warning_decide(request: HttpRequest, pk: int) -> HttpResponse:
    state = request.POST.get("state", "")
    try:
        require(request.user, WARNING_ROLES, _("Only analysts and leaders decide on warnings."))  # type: ignore[arg-type]
        alerts.warning_decide(warning_id=pk, actor=request.user, state=state, note=request.POST.get("note", ""))  # type: ignore[arg-type]
    except DomainError as exc:
        return _error(request, exc)
    messages.success(request, _("Warning acknowledged.") if state == "acknowledged" else _("Warning dismissed."))
    return HttpResponseRedirect(request.POST.get("next") or reverse("analytics:warnings"))


@login_required
def report_page(request: HttpRequest) -> HttpResponse:
    try:
        office, period = _scope(request)
    except DomainError as exc:
        return _error(request, exc)
    if request.GET.get("output"):
        try:
            return report_response(request.user, request.GET)
        except DomainError as exc:
            return _error(request, exc)
    return render(
        request,
        "analytics/reports.html",
        _context(request, office, period, kinds=reports.KINDS, topics=list(Topic.objects.filter(active=True))),
    )

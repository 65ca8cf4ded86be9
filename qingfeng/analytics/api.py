"""Analytics API: standard statistics, trends, special topics, early warnings and reports.

Every endpoint is scoped to an office subtree the user may see (permissions.statistics_office);
no response carries a reporter's identity.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from qingfeng.analytics import alerts, reports, selectors
from qingfeng.analytics.models import EarlyWarning, Topic
from qingfeng.analytics.periods import Period, parse_period
from qingfeng.analytics.permissions import (
    STATS_ROLES,
    TOPIC_ROLES,
    WARNING_ROLES,
    require,
    statistics_office,
)
from qingfeng.analytics.report_render import render_pdf, render_xlsx
from qingfeng.analytics.topics import topic_save
from qingfeng.core.api import Pagination
from qingfeng.core.errors import NotFound, PermissionDenied, ValidationFailed
from qingfeng.offices.models import Office
from qingfeng.protection.services import audit_record

SCOPE = [
    OpenApiParameter("office", str, description="Office code (default: your office); must be in your subtree"),
    OpenApiParameter("from", str, description="First day, YYYY-MM-DD or YYYY-MM (default: 1 January)"),
    OpenApiParameter("to", str, description="Last day, YYYY-MM-DD or YYYY-MM (default: today)"),
]


def scope(request: Request) -> tuple[Office, Period]:
    office = statistics_office(request.user, request.query_params.get("office"))  # type: ignore[arg-type]
    period = parse_period(request.query_params.get("from"), request.query_params.get("to"), today=timezone.localdate())
    return office, period


class StatisticsApi(APIView):
    @extend_schema(parameters=SCOPE, responses=OpenApiTypes.OBJECT, summary="Standard statistics of a subtree")
    def get(self, request: Request) -> Response:
        office, period = scope(request)
        return Response(selectors.standard_statistics(office=office, period=period))


class TrendApi(APIView):
    @extend_schema(
        parameters=[
            *SCOPE,
            OpenApiParameter("dimension", str, enum=sorted(selectors.DIMENSIONS), description="breakdown by month"),
        ],
        responses=OpenApiTypes.OBJECT,
        summary="Monthly trend, in total or by one breakdown",
    )
    def get(self, request: Request) -> Response:
        office, period = scope(request)
        dim = request.query_params.get("dimension")
        if dim:
            if dim not in selectors.DIMENSIONS:
                raise ValidationFailed(
                    {"dimension": [_("One of: %(d)s.") % {"d": ", ".join(sorted(selectors.DIMENSIONS))}]}
                )
            return Response(
                selectors.dimension_trend(
                    office=office, first=period.first_month, last=period.last_month, dimension=dim
                )
            )
        return Response(selectors.monthly_trend(office=office, first=period.first_month, last=period.last_month))


class DailyApi(APIView):
    @extend_schema(parameters=SCOPE, responses=OpenApiTypes.OBJECT, summary="Cases received per day")
    def get(self, request: Request) -> Response:
        office, period = scope(request)
        if (period.end - period.start).days > 400:
            raise ValidationFailed({"from": [_("Daily figures cover at most 400 days.")]})
        rows = selectors.daily_totals(office=office, first=period.start, last=period.effective_end)
        return Response({"days": [d.isoformat() for d, _n in rows], "received": [n for _d, n in rows]})


# --- topics ------------------------------------------------------------------------------------


class TopicSerializer(serializers.ModelSerializer):
    office = serializers.CharField(source="office.code", read_only=True)
    matches = serializers.SerializerMethodField()

    class Meta:
        model = Topic
        fields = [
            "code",
            "name",
            "description",
            "keywords",
            "categories",
            "regions",
            "active",
            "office",
            "tagged_at",
            "matches",
            "created_at",
            "updated_at",
        ]

    def get_matches(self, obj: Topic) -> int:
        return obj.matches.count()


class TopicInputSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=32, required=False)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    keywords = serializers.ListField(child=serializers.CharField(max_length=50), required=False, default=list)
    categories = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list)
    regions = serializers.ListField(child=serializers.CharField(max_length=12), required=False, default=list)
    active = serializers.BooleanField(required=False, default=True)


def _topic(code: str) -> Topic:
    topic = Topic.objects.filter(code=code).first()
    if topic is None:
        raise NotFound(_("No topic %(code)s.") % {"code": code})
    return topic


class TopicListApi(APIView):
    @extend_schema(responses=TopicSerializer(many=True), summary="Special topics")
    def get(self, request: Request) -> Response:
        require(request.user, STATS_ROLES, _("Topics are for users who see statistics."))  # type: ignore[arg-type]
        return Response(TopicSerializer(Topic.objects.all(), many=True).data)

    @extend_schema(request=TopicInputSerializer, responses={201: TopicSerializer}, summary="Define a special topic")
    def post(self, request: Request) -> Response:
        require(request.user, TOPIC_ROLES, _("Only analysts and leaders define special topics."))  # type: ignore[arg-type]
        ser = TopicInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        topic = topic_save(actor=request.user, code=data.pop("code", ""), **data)  # type: ignore[arg-type]
        topic.refresh_from_db()
        return Response(TopicSerializer(topic).data, status=status.HTTP_201_CREATED)


class TopicDetailApi(APIView):
    @extend_schema(responses=TopicSerializer, summary="A special topic")
    def get(self, request: Request, code: str) -> Response:
        require(request.user, STATS_ROLES, _("Topics are for users who see statistics."))  # type: ignore[arg-type]
        return Response(TopicSerializer(_topic(code)).data)

    @extend_schema(request=TopicInputSerializer, responses=TopicSerializer, summary="Change a topic (re-tags cases)")
    def put(self, request: Request, code: str) -> Response:
        office = require(request.user, TOPIC_ROLES, _("Only analysts and leaders define special topics."))  # type: ignore[arg-type]
        topic = _topic(code)
        if topic.office_id != office.pk:
            raise PermissionDenied(_("Only the office that defined a topic changes it."))
        ser = TopicInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        data.pop("code", None)
        topic = topic_save(actor=request.user, code=code, topic=topic, **data)  # type: ignore[arg-type]
        topic.refresh_from_db()
        return Response(TopicSerializer(topic).data)


class TopicStatisticsApi(APIView):
    @extend_schema(parameters=SCOPE, responses=OpenApiTypes.OBJECT, summary="A special topic's statistics and trend")
    def get(self, request: Request, code: str) -> Response:
        office, period = scope(request)
        return Response(selectors.topic_statistics(topic=_topic(code), office=office, period=period))


# --- warnings ----------------------------------------------------------------------------------


class WarningSerializer(serializers.ModelSerializer):
    office = serializers.CharField(source="office.code")
    office_name = serializers.CharField(source="office.name")
    cases = serializers.SerializerMethodField()
    acted_by = serializers.CharField(source="acted_by.username", default=None)

    class Meta:
        model = EarlyWarning
        fields = [
            "id",
            "kind",
            "office",
            "office_name",
            "as_of",
            "series",
            "label",
            "observed",
            "expected",
            "lower",
            "upper",
            "score",
            "method",
            "evidence",
            "cases",
            "state",
            "acted_by",
            "acted_at",
            "note",
        ]

    def get_cases(self, obj: EarlyWarning) -> list[str]:
        return [c.number for c in obj.cases.all()]


class WarningListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("office", str),
            OpenApiParameter("state", str, enum=[s.value for s in EarlyWarning.State]),
        ],
        responses=WarningSerializer(many=True),
        summary="Early warnings in a subtree",
    )
    def get(self, request: Request) -> Response:
        office = statistics_office(request.user, request.query_params.get("office"))  # type: ignore[arg-type]
        qs = alerts.warnings_visible_to(office).select_related("office", "acted_by").prefetch_related("cases")
        state = request.query_params.get("state")
        if state:
            qs = qs.filter(state=state)
        paginator = Pagination()
        page: Any = paginator.paginate_queryset(qs.order_by("-as_of", "-score", "id"), request, view=self)
        return paginator.get_paginated_response(WarningSerializer(page, many=True).data)


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


def decision_view(state: str) -> type[APIView]:
    class WarningDecisionApi(APIView):
        @extend_schema(
            request=DecisionSerializer,
            responses=WarningSerializer,
            summary=f"{state.title()} a warning",
            operation_id=f"analytics_warning_{state}",
        )
        def post(self, request: Request, pk: int) -> Response:
            require(request.user, WARNING_ROLES, _("Only analysts and leaders decide on warnings."))  # type: ignore[arg-type]
            ser = DecisionSerializer(data=request.data)
            ser.is_valid(raise_exception=True)
            warning = alerts.warning_decide(
                warning_id=pk,
                actor=request.user,  # type: ignore[arg-type]
                state=state,
                note=ser.validated_data["note"],
            )
            return Response(WarningSerializer(warning).data)

    WarningDecisionApi.__name__ = f"Warning{state.title()}Api"
    return WarningDecisionApi


# --- reports -----------------------------------------------------------------------------------


def report_response(request_user: Any, params: Any) -> HttpResponse:
    office = statistics_office(request_user, params.get("office"))
    period = parse_period(params.get("from"), params.get("to"), today=timezone.localdate())
    kind = params.get("kind") or "regular"
    fmt = params.get("output") or "pdf"
    errors: dict[str, list[str]] = {}
    if kind not in reports.KINDS:
        errors["kind"] = [_("One of: %(k)s.") % {"k": ", ".join(reports.KINDS)}]
    if fmt not in ("pdf", "xlsx"):
        errors["output"] = [_("pdf or xlsx.")]
    topic = None
    if kind == "topic":
        topic = Topic.objects.filter(code=params.get("topic") or "").first()
        if topic is None:
            errors["topic"] = [_("Choose a special topic.")]
    if errors:
        raise ValidationFailed(errors)
    report = reports.build_report(kind=kind, office=office, period=period, topic=topic)
    if fmt == "pdf":
        response = HttpResponse(render_pdf(report), content_type="application/pdf")
    else:
        response = HttpResponse(
            render_xlsx(report), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{report.filename}.{fmt}"'
    # A report leaves the system as a file: the auditor must be able to tell who took which one.
    audit_record(
        actor=request_user,
        action="report_download",
        object_type="analysis_report",
        object_id=report.filename,
        office=getattr(request_user, "office_id", None),
        detail={
            "kind": kind,
            "output": fmt,
            "subtree": office.code,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "topic": topic.code if topic is not None else "",
        },
    )
    return response


class ReportApi(APIView):
    @extend_schema(
        parameters=[
            *SCOPE,
            OpenApiParameter("kind", str, enum=list(reports.KINDS)),
            OpenApiParameter("output", str, enum=["pdf", "xlsx"]),
            OpenApiParameter("topic", str, description="topic code, for kind=topic"),
        ],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        summary="An analysis report (regular, regional or special topic) as PDF or XLSX",
    )
    def get(self, request: Request) -> HttpResponse:
        return report_response(request.user, request.query_params)

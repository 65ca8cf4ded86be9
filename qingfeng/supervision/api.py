"""Supervision API: thin views over supervision.services and supervision.selectors."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from qingfeng.accounts.models import User
from qingfeng.cases.selectors import case_get_for_user
from qingfeng.core.api import Pagination
from qingfeng.core.errors import PermissionDenied, ValidationFailed
from qingfeng.offices.models import Office
from qingfeng.supervision import serializers as s
from qingfeng.supervision import services
from qingfeng.supervision.permissions import can_supervise, office_is_above
from qingfeng.supervision.selectors import (
    SentDownFilters,
    case_chases,
    case_marks,
    overdue_board,
    sent_down_cases,
)


def _office_of(user: User) -> Office:
    if user.office is None:
        raise PermissionDenied(_("Your account belongs to no office; ask an administrator."))
    return user.office


def lower_office(code: str | None, office: Office, field: str = "office") -> Office | None:
    """Resolve a holding-office filter: it must be an office strictly below the viewer."""
    if not code:
        return None
    lower = Office.objects.filter(code=code).first()
    if lower is None or not office_is_above(office, lower):
        raise ValidationFailed({field: [_("Choose an office below yours.")]})
    return lower


class SentDownApi(APIView):
    @extend_schema(
        parameters=[s.SentDownFilterSerializer],
        responses=s.SentDownCaseSerializer(many=True),
        summary="Cases your office sent down, with holder, time held, deadlines and supervision",
    )
    def get(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        office = _office_of(user)
        params = s.SentDownFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        f = params.validated_data
        filters = SentDownFilters(
            status=list(f.get("status") or []),
            deadline=f.get("deadline"),
            supervised=f.get("supervised"),
            holding_office=lower_office(f.get("office"), office),
            q=f.get("q"),
            ordering=f.get("ordering") or "next_due",
        )
        today = timezone.localdate()
        paginator = Pagination()
        page = paginator.paginate_queryset(sent_down_cases(office=office, filters=filters, today=today), request)
        data = s.SentDownCaseSerializer(page, many=True, context={"today": today}).data
        return paginator.get_paginated_response(data)


class OverdueBoardApi(APIView):
    @extend_schema(
        parameters=[s.BoardParamsSerializer],
        responses=s.BoardSerializer,
        summary="Overdue sent-down cases per lower office, worst first",
    )
    def get(self, request: Request) -> Response:
        office = _office_of(request.user)  # type: ignore[arg-type]
        params = s.BoardParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        by = params.validated_data["by"]
        today = timezone.localdate()
        rows = overdue_board(office=office, today=today, by=by)
        return Response(s.BoardSerializer({"date": today, "by": by, "rows": rows}).data)


class CaseSupervisionApi(APIView):
    @extend_schema(responses=s.CaseSupervisionSerializer, summary="Supervision marks and chases on a case")
    def get(self, request: Request, number: str) -> Response:
        user: User = request.user  # type: ignore[assignment]
        case = case_get_for_user(user=user, number=number)
        data = {
            "case": case.number,
            "can_supervise": can_supervise(user=user, case=case),
            "marks": case_marks(case),
            "chases": case_chases(case),
        }
        return Response(s.CaseSupervisionSerializer(data).data)


class SuperviseApi(APIView):
    @extend_schema(
        request=s.MarkInSerializer, responses={201: s.MarkOutSerializer}, summary="Mark a case for supervision (督办)"
    )
    def post(self, request: Request, number: str) -> Response:
        ser = s.MarkInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        mark = services.mark_create(case_number=number, actor=request.user, **ser.validated_data)  # type: ignore[arg-type]
        return Response(s.MarkOutSerializer(mark).data, status=status.HTTP_201_CREATED)


class ChaseApi(APIView):
    @extend_schema(
        request=s.ChaseInSerializer, responses={201: s.ChaseOutSerializer}, summary="Chase the holding office (催办)"
    )
    def post(self, request: Request, number: str) -> Response:
        ser = s.ChaseInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        chase = services.chase_create(case_number=number, actor=request.user, **ser.validated_data)  # type: ignore[arg-type]
        return Response(s.ChaseOutSerializer(chase).data, status=status.HTTP_201_CREATED)


class CloseMarkApi(APIView):
    @extend_schema(request=s.CloseInSerializer, responses=s.MarkOutSerializer, summary="Close a supervision mark")
    def post(self, request: Request, mark_id: int) -> Response:
        ser = s.CloseInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        mark = services.mark_close(mark_id=mark_id, actor=request.user, **ser.validated_data)  # type: ignore[arg-type]
        return Response(s.MarkOutSerializer(mark).data)


class AcknowledgeChaseApi(APIView):
    @extend_schema(
        request=s.AcknowledgeInSerializer, responses=s.ChaseOutSerializer, summary="Acknowledge a chase as seen"
    )
    def post(self, request: Request, chase_id: int) -> Response:
        ser = s.AcknowledgeInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        chase = services.chase_acknowledge(chase_id=chase_id, actor=request.user, **ser.validated_data)  # type: ignore[arg-type]
        return Response(s.ChaseOutSerializer(chase).data)

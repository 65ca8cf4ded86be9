"""Notifications API: the user's list, unread count, mark one or all read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from qingfeng.accounts.models import User
from qingfeng.core.api import Pagination
from qingfeng.notifications import serializers as s
from qingfeng.notifications.selectors import notification_list, unread_count
from qingfeng.notifications.services import notification_mark_read, notifications_mark_all_read


class NotificationListApi(APIView):
    @extend_schema(
        parameters=[s.NotificationFilterSerializer],
        responses=s.NotificationSerializer(many=True),
        summary="Your notifications, unread first",
    )
    def get(self, request: Request) -> Response:
        params = s.NotificationFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        qs = notification_list(user=request.user, unread_only=params.validated_data["unread"])  # type: ignore[arg-type]
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request)
        return paginator.get_paginated_response(s.NotificationSerializer(page, many=True).data)


class UnreadCountApi(APIView):
    @extend_schema(responses=s.UnreadCountSerializer, summary="How many notifications you have not read")
    def get(self, request: Request) -> Response:
        return Response({"unread": unread_count(user=request.user)})  # type: ignore[arg-type]


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses=s.NotificationSerializer, summary="Mark one notification read")
    def post(self, request: Request, notification_id: int) -> Response:
        user: User = request.user  # type: ignore[assignment]
        notification_mark_read(notification_id=notification_id, user=user)
        item = notification_list(user=user).get(pk=notification_id)
        return Response(s.NotificationSerializer(item).data)


class MarkAllReadApi(APIView):
    @extend_schema(request=None, responses=s.MarkAllReadSerializer, summary="Mark all your notifications read")
    def post(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        marked = notifications_mark_all_read(user=user)
        return Response({"marked": marked, "unread": unread_count(user=user)})

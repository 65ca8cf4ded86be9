"""Shared API plumbing: one error format, one paginator."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from qingfeng.core.errors import DomainError


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for i, item in enumerate(value):
                    for sub, msgs in _flatten(item).items():
                        out[f"{key}[{i}].{sub}"] = msgs
            elif isinstance(value, list):
                out[key] = [str(v) for v in value]
            else:
                out[key] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {"non_field_errors": [str(detail)]}


def _describe(fields: dict[str, list[str]]) -> str:
    parts = [f"{name}: {' '.join(msgs)}" for name, msgs in fields.items()]
    return "; ".join(parts) if parts else "Some fields are not valid."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error leaves the API as `{"message": ..., "extra": {...}}`."""
    if isinstance(exc, DomainError):
        extra = dict(exc.extra)
        message = exc.message
        if exc.status_code == 422 and extra.get("fields") and message == exc.default_message:
            message = _describe(extra["fields"])
        return Response({"message": message, "extra": extra}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response({"message": _describe(fields), "extra": {"fields": fields}}, status=400)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        fields = _flatten(exc.detail)
        response.data = {"message": _describe(fields), "extra": {"fields": fields}}
    else:
        detail = getattr(exc, "detail", None)
        response.data = {"message": str(detail) if detail else str(exc), "extra": {}}
    return response


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response(self, data: Any) -> Response:
        assert self.page is not None
        return Response(
            {
                "count": self.page.paginator.count,
                "page": self.page.number,
                "pages": self.page.paginator.num_pages,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            },
            status=status.HTTP_200_OK,
        )

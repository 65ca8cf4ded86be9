"""Read-only API over the office tree: list, detail, subtree. Offices are addressed by code."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from qingfeng.offices.models import Office
from qingfeng.offices.selectors import office_subtree

# `parent` is the API's name for the parent office; the stubs' `Field.parent` (the enclosing
# serializer) is a different attribute that DRF keeps apart at run time, hence the ignores.


class OfficeSerializer(serializers.ModelSerializer):
    parent: serializers.SlugRelatedField = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="code", read_only=True, allow_null=True, help_text="The parent office's code; null for national."
    )

    class Meta:
        model = Office
        fields = ["code", "name", "region_name", "level", "parent", "path"]
        read_only_fields = fields


class OfficeLevelFilterSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Office.Level.choices, required=False, help_text="Only this level.")

    def filter(self, qs: QuerySet[Office]) -> QuerySet[Office]:
        if "level" in self.validated_data:
            qs = qs.filter(level=self.validated_data["level"])
        return qs


class OfficeFilterSerializer(OfficeLevelFilterSerializer):
    parent: serializers.CharField = serializers.CharField(  # type: ignore[assignment]
        required=False, max_length=12, help_text="Only children of this office code."
    )
    q = serializers.CharField(required=False, max_length=100, help_text="Office name contains this text.")

    def filter(self, qs: QuerySet[Office]) -> QuerySet[Office]:
        qs = super().filter(qs)
        data = self.validated_data
        if "parent" in data:
            qs = qs.filter(parent__code=data["parent"])
        if data.get("q"):
            qs = qs.filter(name__icontains=data["q"])
        return qs


def _filtered(filter_class: type[OfficeLevelFilterSerializer], params: Any, qs: QuerySet[Office]) -> QuerySet[Office]:
    filters = filter_class(data=params)
    filters.is_valid(raise_exception=True)
    return filters.filter(qs)


@extend_schema(parameters=[OfficeFilterSerializer], tags=["offices"])
class OfficeListView(generics.ListAPIView):
    """Offices in tree order (by path), optionally filtered by parent, level and name."""

    serializer_class = OfficeSerializer

    def get_queryset(self) -> QuerySet[Office]:
        return _filtered(OfficeFilterSerializer, self.request.query_params, Office.objects.select_related("parent"))


@extend_schema(tags=["offices"])
class OfficeDetailView(generics.RetrieveAPIView):
    """One office by its region code ("0" is national)."""

    serializer_class = OfficeSerializer
    queryset = Office.objects.select_related("parent")
    lookup_field = "code"


@extend_schema(parameters=[OfficeLevelFilterSerializer], tags=["offices"])
class OfficeSubtreeView(generics.ListAPIView):
    """The office and every office below it, in tree order; `level` keeps one level of it."""

    serializer_class = OfficeSerializer

    def get_queryset(self) -> QuerySet[Office]:
        office = get_object_or_404(Office, code=self.kwargs["code"])
        qs = office_subtree(office).select_related("parent")
        return _filtered(OfficeLevelFilterSerializer, self.request.query_params, qs)

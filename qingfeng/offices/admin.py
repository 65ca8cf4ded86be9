from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from qingfeng.offices.models import Office


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    """View-only: the tree is written by `manage.py load_offices` from the shipped region table."""

    list_display = ["code", "name", "level", "parent", "path"]
    list_filter = ["level"]
    list_select_related = ["parent"]
    search_fields = ["^code", "name", "region_name"]
    search_help_text = "Code (prefix) or name"
    ordering = ["path"]
    raw_id_fields = ["parent"]
    fields = ["code", "name", "region_name", "level", "parent", "path", "region_code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Office | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Office | None = None) -> bool:
        return False

"""Admin for the configurable code lists. Cases themselves are changed only through the workflow."""

from django.contrib import admin

from qingfeng.cases.models import Category, Tag


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "parent", "active", "sort")
    list_filter = ("active",)
    search_fields = ("code", "name", "name_en")
    readonly_fields = ("path",)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # The path must follow the parent so subtree filters stay right.
        obj.path = (obj.parent.path if obj.parent else "/") + obj.code + "/"
        super().save_model(request, obj, form, change)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name", "name_en")

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from qingfeng.accounts.models import User, UserRole


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 1


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, ("Qingfeng", {"fields": ("office", "display_name")}))  # type: ignore[misc]
    list_display = ("username", "display_name", "office", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "roles__role")
    search_fields = ("username", "display_name", "office__code", "office__name")
    raw_id_fields = ("office",)
    inlines = [UserRoleInline]

from django.contrib import admin

from qingfeng.deadlines.models import CalendarDay, DeadlineRule


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "working_days", "months", "warn_working_days", "serious_working_days")

"""Working-day calendar and configurable deadline rules."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: a public holiday or an adjusted workday (调休)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday")
        WORKDAY = "workday", _("Adjusted workday")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")

    def __str__(self) -> str:
        return f"{self.date} {self.kind} {self.name}"


class DeadlineRule(models.Model):
    """Overrides the default limit of one deadline kind (see deadlines.rules.DEFAULT_RULES)."""

    kind = models.CharField(_("deadline"), max_length=32, unique=True)
    working_days = models.PositiveSmallIntegerField(_("working days"), null=True, blank=True)
    months = models.PositiveSmallIntegerField(_("calendar months"), null=True, blank=True)
    warn_working_days = models.PositiveSmallIntegerField(_("warn this many working days before"), default=2)
    serious_working_days = models.PositiveSmallIntegerField(
        _("seriously overdue this many working days after"), default=5
    )

    class Meta:
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")

    def __str__(self) -> str:
        return self.kind

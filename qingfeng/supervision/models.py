"""Supervision (督办) and chasing (催办) of cases by upper offices.

A mark says "this case is under our supervision until it is closed": the supervising office,
the form (on-site, phone, letter, debriefing), a note and a target date. A chase is a one-off
reminder that the chased office acknowledges as seen, optionally with a reply. Both are also
written as CaseEvents (see services.py), so the case timeline and the audit trail show them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SupervisionForm(models.TextChoices):
    ON_SITE = "on_site", _("On-site")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")
    DEBRIEFING = "debriefing", _("Debriefing")


class EventAction(models.TextChoices):
    """CaseEvent.action values written by this app (the workflow's Action lists the others)."""

    SUPERVISE = "supervise", _("Marked for supervision")
    CLOSE_SUPERVISION = "close_supervision", _("Supervision closed")
    CHASE = "chase", _("Chased")
    CHASE_SEEN = "chase_seen", _("Chase acknowledged")


class SupervisionMark(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="supervision_marks")
    # The supervising (upper) office, and the office that held the case when it was marked.
    office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, related_name="+", verbose_name=_("supervising office")
    )
    target_office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, related_name="+", verbose_name=_("supervised office")
    )
    form = models.CharField(_("form"), max_length=16, choices=SupervisionForm.choices)
    note = models.TextField(_("note"))
    target_date = models.DateField(_("target date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    close_reason = models.TextField(_("reason for closing"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("supervision mark")
        verbose_name_plural = _("supervision marks")
        constraints = [
            # One open mark per case and supervising office: a second one would be noise.
            models.UniqueConstraint(
                fields=["case", "office"], condition=Q(closed_at__isnull=True), name="uniq_open_mark_per_office"
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | ~Q(close_reason=""), name="closed_mark_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["case", "closed_at"], name="mark_case_open"),
            models.Index(fields=["office", "closed_at"], name="mark_office_open"),
        ]

    def __str__(self) -> str:
        return f"mark {self.case_id}@{self.office_id}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Chase(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="chases")
    # The chasing (upper) office, and the office chased: the holder at the time of the chase.
    office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, related_name="+", verbose_name=_("chasing office")
    )
    target_office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, related_name="+", verbose_name=_("chased office")
    )
    message = models.TextField(_("message"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)
    seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reply = models.TextField(_("reply"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("chase")
        verbose_name_plural = _("chases")
        indexes = [
            models.Index(fields=["case", "-created_at"], name="chase_case_time"),
            models.Index(fields=["target_office", "seen_at"], name="chase_target_unseen"),
        ]

    def __str__(self) -> str:
        return f"chase {self.case_id}@{self.target_office_id}"

"""In-app notifications for an office (optionally one user in it).

Read state belongs to the notification, as the office's inbox: once someone in the office
has read it (`read_at`, `read_by`), it is read for the office.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        NEW_CASE = "new_case", _("New case")
        DEADLINE_WARNING = "deadline_warning", _("Deadline warning")
        DEADLINE_OVERDUE = "deadline_overdue", _("Deadline overdue")
        CHASE = "chase", _("Chase (催办)")
        SUPERVISION = "supervision", _("Supervision (督办)")
        EVENT = "event", _("Case update")
        EARLY_WARNING = "early_warning", _("Early warning")

    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Deduplicates periodic notifications, e.g. "deadline:<case>:<kind>:<level>".
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["office", "read_at"], name="notif_office_unread"),
            models.Index(fields=["office", "-created_at"], name="notif_office_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:40]}"

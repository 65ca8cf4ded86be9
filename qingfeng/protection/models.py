"""Identity access requests and the append-only, hash-chained audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventAction(models.TextChoices):
    """Case timeline actions written by this app (labels registered into cases.workflow.EVENT_LABELS)."""

    IDENTITY_REQUEST = "identity_request", _("Identity access requested")
    IDENTITY_REQUEST_APPROVED = "identity_request_approved", _("Identity access approved")
    IDENTITY_REQUEST_REJECTED = "identity_request_rejected", _("Identity access rejected")


class IdentityAccessRequest(models.Model):
    """A user who cannot see a reporter's identity asks the holding office's leader for it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="identity_requests")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    office = models.ForeignKey("offices.Office", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "requester", "status"], name="idreq_case_user"),
            models.Index(fields=["status", "created_at"], name="idreq_status_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "requester"],
                condition=models.Q(status="pending"),
                name="uniq_pending_identity_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.requester_id}:{self.status}"


class AuditChainHead(models.Model):
    """One row: the last sequence number and hash. Appends lock it, so the chain never forks."""

    sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"{self.sequence}:{self.last_hash[:12]}"


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit log is append-only: entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only: entries cannot be deleted.")


class AuditEntry(models.Model):
    """Append-only. Actor and office are plain ids (no foreign keys), so no cascade ever rewrites a row."""

    sequence = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    case_number = models.CharField(max_length=40, blank=True, db_index=True)
    office_id = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            raise PermissionError("The audit log is append-only: entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only: entries cannot be deleted.")

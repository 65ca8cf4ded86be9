"""The public portal's own records: receipt codes, submissions, messages and throttle counters.

Nothing here identifies a reporter: receipt codes are stored only as Argon2 hashes, client
addresses only as keyed hashes inside the throttle counters, and the one plain copy of a
receipt code (for a retried submission) is encrypted and erased after a short window.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReceiptCode(models.Model):
    """The secret that lets a reporter follow a case up. One active code per case.

    Issuing a new code (staff re-issue) revokes the previous one, which also ends every
    follow-up session opened with it.
    """

    class Origin(models.TextChoices):
        ONLINE = "online", _("Shown after an online report")
        STAFF = "staff", _("Issued by staff on a receipt slip")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="receipt_codes")
    # Django password-hasher format ("argon2$argon2id$v=19$m=…,t=…,p=…$salt$hash"); never the code.
    code_hash = models.CharField(max_length=200)
    origin = models.CharField(max_length=16, choices=Origin.choices)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(revoked_at__isnull=True), name="portal_one_active_receipt"
            )
        ]

    def __str__(self) -> str:
        return f"receipt code for case {self.case_id}"


class PortalSubmission(models.Model):
    """One accepted online submission, keyed by its idempotency token.

    The token is generated with the form (or sent by an API client), so a double click or a
    retry after a time-out finds this row and gets the same receipt instead of a second case.
    The row is inserted first in the registering transaction: a concurrent duplicate waits on
    the unique index and then fails, without registering anything.
    """

    class Via(models.TextChoices):
        FORM = "form", _("Web form")
        API = "api", _("API")

    token = models.CharField(max_length=64, unique=True)
    via = models.CharField(max_length=8, choices=Via.choices)
    case = models.ForeignKey("cases.Case", null=True, on_delete=models.CASCADE, related_name="+")
    # SHA-256 of the submitted content: a reused key with other content is not the same request.
    payload_hash = models.CharField(max_length=64)
    # The receipt code, encrypted (core.crypto), kept only until `code_expires_at` so a retried
    # request can still show it; erased on first read after that and by `portal_cleanup`.
    code_ciphertext = models.TextField(blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(
                fields=["code_expires_at"],
                condition=~models.Q(code_ciphertext=""),
                name="portal_sub_code_expiry",
            )
        ]

    def __str__(self) -> str:
        return f"submission {self.pk} -> case {self.case_id}"


class CaseMessage(models.Model):
    """A message between the reporter (through the portal) and the holding office."""

    class Direction(models.TextChoices):
        FROM_REPORTER = "from_reporter", _("From the reporter")
        FROM_OFFICE = "from_office", _("From the office")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="portal_messages")
    direction = models.CharField(max_length=16, choices=Direction.choices)
    body = models.TextField()
    # The office that wrote (office messages) or that held the case when the reporter wrote.
    office = models.ForeignKey("offices.Office", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    # Read by the other side: the office for reporter messages, the reporter for office messages.
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="portal_msg_case_time")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.direction} {self.created_at:%Y-%m-%d %H:%M}"


class ThrottleCounter(models.Model):
    """Fixed-window counters shared by every worker process (rate limits, wrong-code attempts).

    `key` is a keyed hash (HMAC) of the client address or case number, never the value itself.
    `window` is the window's number: epoch seconds // the rule's period.
    """

    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=64)
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key", "window"], name="portal_throttle_window")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key[:8]}@{self.window}={self.count}"

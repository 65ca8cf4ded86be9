"""Writes for notifications."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from qingfeng.notifications.models import Notification


def notification_create(
    *,
    office_id: int,
    kind: str,
    message: str,
    case_id: int | None = None,
    user_id: int | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Create a notification; with a dedupe key, a second call for the same key is a no-op."""
    try:
        with transaction.atomic():
            return Notification.objects.create(
                office_id=office_id, kind=kind, message=message, case_id=case_id, user_id=user_id, dedupe_key=dedupe_key
            )
    except IntegrityError:
        if dedupe_key is None:
            raise
        return None

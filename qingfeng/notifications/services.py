"""Writes for notifications."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qingfeng.accounts.models import User
from qingfeng.core.errors import NotFound
from qingfeng.notifications.models import Notification
from qingfeng.notifications.selectors import notifications_for


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


def notification_mark_read(*, notification_id: int, user: User, now: datetime | None = None) -> Notification:
    """Mark one notification read for the office. Reading it again changes nothing (who read it first stays)."""
    notification = notifications_for(user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound(_("No such notification."))
    if notification.read_at is None:
        now = now or timezone.now()
        if Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now, read_by=user):
            notification.read_at, notification.read_by = now, user
        else:
            notification.refresh_from_db()
    return notification


def notifications_mark_all_read(*, user: User, now: datetime | None = None) -> int:
    """Mark every unread notification the user sees as read, in one UPDATE. Returns how many."""
    now = now or timezone.now()
    return notifications_for(user).filter(read_at__isnull=True).update(read_at=now, read_by=user)

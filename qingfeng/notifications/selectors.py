"""Reads of notifications: what one user sees, unread first."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from qingfeng.accounts.models import User
from qingfeng.notifications.models import Notification


def notifications_for(user: User) -> QuerySet[Notification]:
    """Notifications of the user's office addressed to the whole office or to this user."""
    if user.office_id is None:
        return Notification.objects.none()
    return Notification.objects.filter(Q(user__isnull=True) | Q(user=user), office_id=user.office_id)


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, unread first, then newest first; each annotated with `is_read`."""
    qs = notifications_for(user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return (
        qs.annotate(is_read=ExpressionWrapper(Q(read_at__isnull=False), output_field=BooleanField()))
        .select_related("case")
        .order_by("is_read", "-created_at", "-id")
    )


def unread_count(*, user: User) -> int:
    """One count on the (office, read_at) index."""
    return notifications_for(user).filter(read_at__isnull=True).count()

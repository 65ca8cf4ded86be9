"""Values every staff page's header needs: the unread notification count and what the nav offers."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from qingfeng.accounts.models import Role
from qingfeng.analytics.permissions import STATS_ROLES
from qingfeng.notifications.models import Notification

REGISTER_ROLES = (Role.INTAKE_CLERK, Role.PETITION_HEAD)


def workspace(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "office_id", None) is None:
        return {"unread_notifications": 0, "can_register": False, "can_analyse": False}
    office_id, user_id = user.office_id, user.pk
    return {
        # Lazy: counted once, and only when a page shows it. The office's unread notifications
        # addressed to the whole office or to this user (the same count as notifications.selectors).
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.filter(
                Q(user__isnull=True) | Q(user_id=user_id), office_id=office_id, read_at__isnull=True
            ).count()
        ),
        "can_register": SimpleLazyObject(lambda: user.has_role(*REGISTER_ROLES)),
        "can_analyse": SimpleLazyObject(lambda: user.has_role(*STATS_ROLES)),
    }

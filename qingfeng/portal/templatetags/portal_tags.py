"""Template tags of the portal: the staff case panel's data."""

from __future__ import annotations

from typing import Any

from django import template

from qingfeng.accounts.models import User
from qingfeng.cases.models import Case
from qingfeng.portal.forms import OfficeReplyForm
from qingfeng.portal.selectors import StaffPanel, staff_panel

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_staff_panel(context: Any, case: Case) -> StaffPanel | None:
    """`{% portal_staff_panel case as portal %}`: None unless a signed-in staff user is looking."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated or not isinstance(case, Case):
        return None
    return staff_panel(case=case, user=user)


@register.simple_tag
def portal_reply_form() -> OfficeReplyForm:
    return OfficeReplyForm()

"""Tags for the panels other apps include: {% load supervision_tags %}."""

from __future__ import annotations

from typing import Any

from django import template

from qingfeng.cases.models import Case
from qingfeng.notifications.selectors import unread_count
from qingfeng.supervision import links
from qingfeng.supervision.panels import case_panel_context, home_panel_context

register = template.Library()


def _request(context: template.Context) -> Any:
    request = context.get("request")
    if request is None or not getattr(request, "user", None) or not request.user.is_authenticated:
        return None
    return request


@register.simple_tag(takes_context=True)
def case_panel_data(context: template.Context, case: Case) -> dict[str, Any] | None:
    """Marks, chases and forms for the case panel; None for an anonymous request."""
    request = _request(context)
    if request is None or case is None:
        return None
    return case_panel_context(
        request, case, mark_form=context.get("sv_mark_form"), chase_form=context.get("sv_chase_form")
    )


@register.simple_tag(takes_context=True)
def home_panel_data(context: template.Context) -> dict[str, Any] | None:
    request = _request(context)
    return home_panel_context(request) if request is not None else None


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    request = _request(context)
    return unread_count(user=request.user) if request is not None else 0


@register.simple_tag
def case_url(number: str) -> str:
    return links.case_url(number)


@register.simple_tag
def poll_seconds() -> int:
    return links.poll_seconds()

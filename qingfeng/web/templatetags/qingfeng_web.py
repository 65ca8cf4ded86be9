"""Template helpers for the staff pages: labels by language, badges, event details."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qingfeng.cases.choices import (
    Channel,
    DisposalWay,
    Gender,
    HandlingMode,
    InquiryOutcome,
    ItemType,
    NotAcceptedReason,
    PartyKind,
    Rank,
    Source,
    Status,
    Substantiation,
    Urgency,
)
from qingfeng.cases.models import Case, CaseEvent
from qingfeng.cases.workflow import Action, event_label
from qingfeng.deadlines.services import level_on
from qingfeng.web import selectors

register = template.Library()

CHOICES: dict[str, Any] = {
    "status": Status,
    "channel": Channel,
    "source": Source,
    "item_type": ItemType,
    "urgency": Urgency,
    "rank": Rank,
    "gender": Gender,
    "kind": PartyKind,
    "handling_mode": HandlingMode,
    "way": DisposalWay,
    "disposal_way": DisposalWay,
    "outcome": InquiryOutcome,
    "inquiry_outcome": InquiryOutcome,
    "substantiation": Substantiation,
    "not_accepted_reason": NotAcceptedReason,
    "action": Action,
}

LEVEL_LABELS = {
    "none": gettext_lazy("No open deadline"),
    "ok": gettext_lazy("On time"),
    "warn": gettext_lazy("Due soon"),
    "overdue": gettext_lazy("Overdue"),
    "serious": gettext_lazy("Seriously overdue"),
}

# Keys of CaseEvent.data worth showing, with their labels.
EVENT_DATA_LABELS = {
    "item_type": gettext_lazy("item type"),
    "not_accepted_reason": gettext_lazy("why it is not accepted"),
    "concerns_own_leaders": gettext_lazy("concerns this commission's own leaders"),
    "due_date": gettext_lazy("report the result by"),
    "repeat_of": gettext_lazy("number of the earlier case"),
    "reopened": gettext_lazy("reopened case"),
    "way": gettext_lazy("disposal"),
    "outcome": gettext_lazy("inquiry outcome"),
    "substantiation": gettext_lazy("substantiation"),
    "name_cleared": gettext_lazy("name cleared"),
    "objection": gettext_lazy("reporter's objection"),
    "problem_solved": gettext_lazy("problem solved"),
    "satisfaction": gettext_lazy("satisfaction (1–5)"),
    "channel": gettext_lazy("channel"),
}


@register.filter
def label(value: Any, kind: str) -> str:
    """The translated label of a code: {{ case.status|label:"status" }}."""
    if value in (None, ""):
        return ""
    if kind == "action":
        return event_label(str(value))
    choices = CHOICES.get(kind)
    if choices is None:
        return str(value)
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@register.filter
def localized(obj: Any) -> str:
    """A Category's or Tag's name in the active language."""
    return selectors.localized_name(obj)


@register.filter
def yesno_unknown(value: bool | None) -> str:
    if value is None:
        return _("Not given")
    return _("Yes") if value else _("No")


@register.filter
def case_level(case: Case, today: Any) -> str:
    """The deadline level of a case's earliest open deadline: none, ok, warn, overdue, serious."""
    if case.next_due is None:
        return "none"
    return level_on(case, today).name


@register.filter
def level_label(level: str) -> str:
    return str(LEVEL_LABELS.get(level, level))


@register.filter
def event_details(event: CaseEvent) -> list[tuple[str, str]]:
    """The event's recorded parameters as (label, value) pairs, values translated."""
    out = []
    for key, raw in (event.data or {}).items():
        if key not in EVENT_DATA_LABELS:
            continue
        if isinstance(raw, bool):
            value = _("Yes") if raw else _("No")
        elif key in CHOICES and isinstance(raw, str):
            value = label(raw, key)
        else:
            value = str(raw)
        out.append((str(EVENT_DATA_LABELS[key]), value))
    return out


@register.filter
def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if mapping else None

"""The case list's filter form (GET): the same filters for the page and its CSV and XLSX exports."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qingfeng.cases.choices import Channel, ItemType, Source, Status
from qingfeng.cases.models import Case
from qingfeng.cases.selectors import ORDERINGS, CaseFilters, case_list
from qingfeng.offices.models import Office
from qingfeng.offices.selectors import office_is_in_subtree
from qingfeng.web.selectors import category_choices

DEADLINE_CHOICES = [
    ("", _("Any")),
    ("none", _("No open deadline")),
    ("ok", _("On time")),
    ("due_soon", _("Due soon")),
    ("overdue", _("Overdue")),
    ("serious", _("Seriously overdue")),
]
YES_NO_ANY = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]

# Columns the list can be sorted by: column -> (ascending, descending) ordering keys.
SORTABLE = {
    "number": ("number", "-number"),
    "received_at": ("received_at", "-received_at"),
    "next_due": ("next_due", "-next_due"),
    "status": ("status", "status"),
}


def _yes_no(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value)


class CaseFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Words in the title or description")}),
    )
    status = forms.MultipleChoiceField(
        label=_("state"), required=False, choices=Status.choices, widget=forms.CheckboxSelectMultiple
    )
    channel = forms.MultipleChoiceField(
        label=_("channel"), required=False, choices=Channel.choices, widget=forms.CheckboxSelectMultiple
    )
    item_type = forms.MultipleChoiceField(
        label=_("item type"), required=False, choices=ItemType.choices, widget=forms.CheckboxSelectMultiple
    )
    source = forms.MultipleChoiceField(
        label=_("source"), required=False, choices=Source.choices, widget=forms.CheckboxSelectMultiple
    )
    category = forms.ChoiceField(label=_("problem category"), required=False)
    region = forms.RegexField(
        label=_("problem region"),
        regex=r"^\d{2,12}$",
        required=False,
        max_length=12,
        error_messages={"invalid": _("A region code is 2 to 12 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "110101"}),
    )
    office = forms.ChoiceField(label=_("holding office"), required=False)
    office_code = forms.CharField(
        label=_("or office code"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": _("any office below yours")}),
    )
    held = forms.BooleanField(label=_("held by my office"), required=False)
    deadline = forms.ChoiceField(label=_("deadline"), required=False, choices=DEADLINE_CHOICES)
    received_from = forms.DateField(
        label=_("received from"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    received_to = forms.DateField(
        label=_("received to"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    is_real_name = forms.ChoiceField(label=_("real-name"), required=False, choices=YES_NO_ANY)
    is_repeat = forms.ChoiceField(label=_("repeat"), required=False, choices=YES_NO_ANY)
    ordering = forms.ChoiceField(required=False, choices=[(k, k) for k in ORDERINGS], widget=forms.HiddenInput)

    def __init__(self, *args: Any, office: Office, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_office = office
        self.fields["category"].choices = [("", _("Any")), *category_choices()]  # type: ignore[attr-defined]
        children = Office.objects.filter(parent=office).order_by("code").only("code", "name")
        self.fields["office"].choices = [  # type: ignore[attr-defined]
            ("", _("All cases my office can see")),
            (office.code, _("%(office)s and below") % {"office": office.name}),
            *[(o.code, o.name) for o in children],
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code = (data.get("office_code") or "").strip() or data.get("office") or ""
        data["holding_office"] = None
        if code:
            holding = Office.objects.filter(code=code).first()
            if holding is None or not office_is_in_subtree(holding, self.user_office):
                field = "office_code" if data.get("office_code") else "office"
                self.add_error(field, _("Choose your own office or one below it."))
            else:
                data["holding_office"] = holding
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("The end date is before the start date."))
        return data

    def filters(self) -> CaseFilters:
        d = self.cleaned_data
        return CaseFilters(
            status=list(d.get("status") or []),
            channel=list(d.get("channel") or []),
            item_type=list(d.get("item_type") or []),
            source=list(d.get("source") or []),
            category=d.get("category") or None,
            region=d.get("region") or None,
            holding_office=d.get("holding_office"),
            deadline=d.get("deadline") or None,
            received_from=d.get("received_from"),
            received_to=d.get("received_to"),
            q=d.get("q") or None,
            is_repeat=_yes_no(d.get("is_repeat") or ""),
            is_real_name=_yes_no(d.get("is_real_name") or ""),
            ordering=d.get("ordering") or "-received_at",
        )

    def queryset(self) -> QuerySet[Case]:
        """The filtered cases, visible to the user's office; call after is_valid()."""
        qs = case_list(office=self.user_office, filters=self.filters(), today=timezone.localdate())
        if self.cleaned_data.get("held"):
            qs = qs.filter(holding_office=self.user_office)
        return qs

    def current_ordering(self) -> str:
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get("ordering") or "-received_at"
        return "-received_at"

    def active_count(self) -> int:
        """How many filters are set (shown on the collapsed filter panel)."""
        if not (self.is_bound and self.is_valid()):
            return 0
        skip = {"ordering", "holding_office", "office_code"}
        return sum(1 for k, v in self.cleaned_data.items() if k not in skip and v not in (None, "", [], False))

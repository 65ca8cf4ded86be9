"""HTML forms of the supervision pages (the API has its own serializers)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qingfeng.cases.choices import Status
from qingfeng.supervision.models import SupervisionForm
from qingfeng.supervision.selectors import BOARD_GROUPINGS

DEADLINE_CHOICES = [
    ("", _("Any deadline")),
    ("none", _("No open deadline")),
    ("ok", _("In time")),
    ("due_soon", _("Due soon")),
    ("overdue", _("Overdue")),
    ("serious", _("Seriously overdue")),
]
ORDERING_CHOICES = [
    ("next_due", _("Next deadline first")),
    ("held_since", _("Held longest first")),
    ("-held_since", _("Most recently moved first")),
    ("-received_at", _("Newest first")),
]


class MarkForm(forms.Form):
    form = forms.ChoiceField(label=_("Form"), choices=SupervisionForm.choices)
    target_date = forms.DateField(label=_("Target date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        tomorrow = timezone.localdate() + timedelta(days=1)
        self.fields["target_date"].widget.attrs["min"] = tomorrow.isoformat()


class ChaseForm(forms.Form):
    message = forms.CharField(label=_("Message"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(forms.Form):
    reason = forms.CharField(label=_("Reason for closing"), max_length=2000)


class AcknowledgeForm(forms.Form):
    reply = forms.CharField(label=_("Reply"), max_length=2000, required=False)


class SentDownFilterForm(forms.Form):
    status = forms.MultipleChoiceField(
        label=_("State"), choices=Status.choices, required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    deadline = forms.ChoiceField(label=_("Deadline"), choices=DEADLINE_CHOICES, required=False)
    supervised = forms.ChoiceField(
        label=_("Supervision"),
        choices=[("", _("All")), ("yes", _("Supervised by us")), ("no", _("Not supervised by us"))],
        required=False,
    )
    office = forms.ChoiceField(label=_("Holding office"), required=False)
    q = forms.CharField(label=_("Number or title"), max_length=100, required=False)
    ordering = forms.ChoiceField(label=_("Order"), choices=ORDERING_CHOICES, required=False)

    def __init__(self, *args: object, offices: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["office"].choices = [("", _("All lower offices")), *(offices or [])]  # type: ignore[attr-defined]


class BoardForm(forms.Form):
    by = forms.ChoiceField(
        label=_("Group by"),
        choices=[("child", _("Our lower offices")), ("holder", _("Holding office"))],
        required=False,
    )

    def clean_by(self) -> str:
        value = self.cleaned_data.get("by") or "child"
        return value if value in BOARD_GROUPINGS else "child"

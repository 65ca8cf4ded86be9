"""One form per workflow action, with the same fields as cases.serializers.ACTION_SERIALIZERS.

A test keeps the two in step. The forms check shapes; cases.services.case_transition checks
everything else (state, office, roles, the target office, dates in the future …).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qingfeng.accounts.models import User
from qingfeng.cases.choices import DisposalWay, InquiryOutcome, ItemType, NotAcceptedReason, Substantiation
from qingfeng.cases.models import Case
from qingfeng.cases.services import REASON_REQUIRED
from qingfeng.cases.workflow import Action
from qingfeng.web.selectors import handler_choices, offices_below


class ActionForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    action: str = ""

    def __init__(self, *args: Any, case: Case, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.action)
        super().__init__(*args, **kwargs)
        self.case = case
        self.user = user
        # The action's own fields first, the reason last.
        self.order_fields([name for name in self.fields if name != "reason"] + ["reason"])
        if self.action in REASON_REQUIRED:
            self.fields["reason"].required = True

    def params(self) -> dict[str, Any]:
        """The service's parameters: everything but the reason, without empty optional values."""
        return {k: v for k, v in self.cleaned_data.items() if k != "reason" and v not in (None, "")}

    def reason_text(self) -> str:
        return str(self.cleaned_data.get("reason") or "")


def _choices(choices: Any, blank: Any = None) -> list[tuple[str, Any]]:
    return [("", blank or _("Choose …")), *choices]


class ScreenForm(ActionForm):
    action = Action.SCREEN
    item_type = forms.ChoiceField(label=_("item type"), required=False, choices=ItemType.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item_type"].initial = self.case.item_type


class NotAcceptForm(ActionForm):
    action = Action.NOT_ACCEPT
    not_accepted_reason = forms.ChoiceField(
        label=_("why it is not accepted"), choices=_choices(NotAcceptedReason.choices)
    )


class SendUpForm(ActionForm):
    action = Action.SEND_UP
    concerns_own_leaders = forms.BooleanField(
        label=_("concerns this commission's own leaders"),
        required=False,
        help_text=_("Your office will no longer see the case."),
    )


class TransferForm(ActionForm):
    action = Action.TRANSFER_DOWN
    target_office = forms.ChoiceField(label=_("receiving office"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        holding = self.case.holding_office
        self.fields["target_office"].choices = _choices(  # type: ignore[attr-defined]
            [(o.code, ("\u3000" * (o.level - holding.level - 1)) + o.name) for o in offices_below(holding)]
        )


class AssignForm(TransferForm):
    action = Action.ASSIGN
    due_date = forms.DateField(
        label=_("report the result by"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class MarkRepeatForm(ActionForm):
    action = Action.MARK_REPEAT
    repeat_of = forms.CharField(label=_("number of the earlier case"), max_length=40)
    new_facts = forms.BooleanField(
        label=_("brings new facts or evidence"),
        required=False,
        help_text=_("Reopens handling of the earlier case."),
    )


class AcceptForm(ActionForm):
    action = Action.ACCEPT
    handler = forms.TypedChoiceField(label=_("handler"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["handler"].choices = _choices(  # type: ignore[attr-defined]
            [(u.pk, str(u)) for u in handler_choices(self.case.holding_office)], _("Not yet")
        )


class DisposeForm(ActionForm):
    action = Action.DISPOSE
    way = forms.ChoiceField(label=_("disposal"), choices=_choices(DisposalWay.choices))
    study_opinion = forms.CharField(
        label=_("collective-study opinion"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class InquiryOutcomeForm(ActionForm):
    action = Action.RECORD_INQUIRY_OUTCOME
    outcome = forms.ChoiceField(label=_("inquiry outcome"), choices=_choices(InquiryOutcome.choices))


class ConcludeForm(ActionForm):
    action = Action.CONCLUDE
    substantiation = forms.ChoiceField(label=_("substantiation"), choices=_choices(Substantiation.choices))
    conclusion = forms.CharField(label=_("conclusion"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))
    sanctions = forms.CharField(
        label=_("sanctions"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    losses_recovered = forms.DecimalField(
        label=_("losses recovered (yuan)"), required=False, max_digits=14, decimal_places=2, min_value=0
    )
    name_cleared = forms.BooleanField(label=_("name cleared"), required=False)


class FeedBackForm(ActionForm):
    action = Action.FEED_BACK
    objection = forms.CharField(
        label=_("reporter's objection"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReturnVisitForm(ActionForm):
    action = Action.RECORD_RETURN_VISIT
    problem_solved = forms.TypedChoiceField(
        label=_("problem solved"),
        choices=[("true", _("Yes")), ("false", _("No"))],
        coerce=lambda v: v == "true",
        widget=forms.RadioSelect,
    )
    satisfaction = forms.TypedChoiceField(
        label=_("satisfaction (1–5)"),
        choices=_choices([(str(i), str(i)) for i in range(1, 6)]),
        coerce=int,
    )

    def params(self) -> dict[str, Any]:
        # False is a real answer here, not an empty value.
        data = self.cleaned_data
        return {"problem_solved": data["problem_solved"], "satisfaction": data["satisfaction"]}


def _simple(action: str) -> type[ActionForm]:
    return type(f"{action.title().replace('_', '')}Form", (ActionForm,), {"action": action})


ACTION_FORMS: dict[str, type[ActionForm]] = {
    Action.SCREEN: ScreenForm,
    Action.NOT_ACCEPT: NotAcceptForm,
    Action.SEND_UP: SendUpForm,
    Action.TRANSFER_DOWN: TransferForm,
    Action.ASSIGN: AssignForm,
    Action.MARK_REPEAT: MarkRepeatForm,
    Action.ACCEPT: AcceptForm,
    Action.NOTIFY_ACCEPTANCE: _simple(Action.NOTIFY_ACCEPTANCE),
    Action.RETURN: _simple(Action.RETURN),
    Action.DISPOSE: DisposeForm,
    Action.RECORD_INQUIRY_OUTCOME: InquiryOutcomeForm,
    Action.CONCLUDE: ConcludeForm,
    Action.FEED_BACK: FeedBackForm,
    Action.RECORD_RETURN_VISIT: ReturnVisitForm,
    Action.REOPEN: _simple(Action.REOPEN),
    Action.ARCHIVE: _simple(Action.ARCHIVE),
}

# Actions that need a second look before they are sent (they move or close the case).
WEIGHTY_ACTIONS = frozenset(
    {Action.NOT_ACCEPT, Action.SEND_UP, Action.TRANSFER_DOWN, Action.ASSIGN, Action.MARK_REPEAT, Action.ARCHIVE}
)

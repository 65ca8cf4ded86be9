"""Forms of the public portal. They check shapes and give messages a member of the public understands;
the domain checks (intake.services.validate_registration, check_upload) run again in the services."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qingfeng.cases.choices import ItemType, PartyKind
from qingfeng.core import crypto
from qingfeng.portal import regions
from qingfeng.portal.services import MESSAGE_MAX_CHARS, PUBLIC_ITEM_TYPES, ReportInput

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


def new_token() -> str:
    """An idempotency token for one rendering of the report form (192 random bits)."""
    return secrets.token_urlsafe(24)


def phone_is_valid(value: str) -> bool:
    """A mainland mobile (11 digits, 1[3-9]…) or a landline with its area code (0…, 10–12 digits)."""
    digits = crypto.normalize_phone(value)
    return bool(_MOBILE.match(digits) or _LANDLINE.match(digits))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _region_choices(items: tuple[regions.RegionChoice, ...], empty: Any) -> list[tuple[str, Any]]:
    return [("", empty), *[(r.code, r.short_name) for r in items]]


class ReportForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    anonymous = forms.ChoiceField(
        label=_("Do you give your name?"),
        choices=[("real_name", _("Yes, a real-name report")), ("anonymous", _("No, report anonymously"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a real-name or an anonymous report.")},
    )
    name = forms.CharField(label=_("Your name (or your unit's name)"), max_length=100, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        error_messages={"invalid": _("Enter an email address such as name@example.com.")},
    )
    id_number = forms.CharField(
        label=_("ID card number (optional)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    item_type = forms.ChoiceField(
        label=_("What kind of matter is it?"),
        choices=[(c.value, c.label) for c in PUBLIC_ITEM_TYPES],
        initial=ItemType.ACCUSATION,
        widget=forms.RadioSelect,
    )
    party_kind = forms.ChoiceField(
        label=_("Who is reported?"),
        choices=PartyKind.choices,
        initial=PartyKind.PERSON,
        widget=forms.RadioSelect,
        required=False,
    )
    party_name = forms.CharField(label=_("Name of the person or unit reported"), max_length=100, required=False)
    party_post = forms.CharField(label=_("Their post"), max_length=100, required=False)
    party_unit = forms.CharField(label=_("Their unit"), max_length=200, required=False)
    region_province = forms.ChoiceField(
        label=pgettext_lazy("portal", "Province"),
        error_messages={"required": _("Choose the province where the matter happened.")},
    )
    region_city = forms.ChoiceField(label=pgettext_lazy("portal", "City"), required=False)
    region_county = forms.ChoiceField(label=pgettext_lazy("portal", "County or district"), required=False)
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        error_messages={"required": _("Give your report a short title.")},
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Township head accepts cash gifts from companies")}),
    )
    description = forms.CharField(
        label=_("What happened?"),
        min_length=10,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={
            "required": _("Describe the matter: who did what, when and where."),
            "min_length": _("Describe the matter in a few sentences (at least %(limit_value)d characters)."),
        },
    )
    attachments = MultipleFileField(label=_("Evidence files (optional)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        province = self._raw("region_province")
        city = self._raw("region_city")
        self.fields["region_province"].choices = _region_choices(  # type: ignore[attr-defined]
            regions.provinces(), _("— choose a province —")
        )
        self.fields["region_city"].choices = _region_choices(  # type: ignore[attr-defined]
            regions.children_of(province), _("— city (if known) —")
        )
        self.fields["region_county"].choices = _region_choices(  # type: ignore[attr-defined]
            regions.children_of(city), _("— county or district (if known) —")
        )
        if not self.is_bound:
            self.initial.setdefault("token", new_token())

    def _raw(self, name: str) -> str:
        if self.is_bound:
            return str(self.data.get(name) or "")
        return str(self.initial.get(name) or "")

    @property
    def token_value(self) -> str:
        """The token to render: the one posted (so the eventual success stays idempotent) or a new one."""
        posted = self._raw("token")
        return posted if TOKEN_PATTERN.match(posted) else new_token()

    def clean_id_number(self) -> str:
        value = crypto.normalize_id_number(self.cleaned_data.get("id_number", ""))
        if value and not crypto.id_number_is_valid(value):
            raise forms.ValidationError(_("This ID card number is not valid: check the 18 characters."))
        return value

    def clean_phone(self) -> str:
        value = (self.cleaned_data.get("phone") or "").strip()
        if value and not phone_is_valid(value):
            raise forms.ValidationError(
                _("Enter a mobile number (11 digits, e.g. 13800138000) or a landline with its area code.")
            )
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("anonymous") == "real_name":
            if not (data.get("name") or "").strip() and "name" not in self.errors:
                self.add_error("name", _("A real-name report needs your name (or your unit's name)."))
            no_contact = not data.get("phone") and not data.get("email")
            if no_contact and not self.has_error("phone") and not self.has_error("email"):
                self.add_error("phone", _("Give a phone number or an email address so the office can reach you."))
        if data.get("item_type") == ItemType.ACCUSATION and not (data.get("party_name") or "").strip():
            self.add_error("party_name", _("Name the person or unit you are reporting."))
        if data.get("region_province"):
            code, errors = regions.resolve(
                data["region_province"], data.get("region_city", ""), data.get("region_county", "")
            )
            messages = {
                "region_city": _("This city is not in the province chosen."),
                "region_county": _("This county or district is not in the city chosen."),
            }
            for name in errors:
                self.add_error(name, messages.get(name, _("Choose from the list.")))
            data["region_code"] = code
        files = data.get("attachments") or []
        if len(files) > settings.ATTACHMENT_MAX_COUNT:
            self.add_error("attachments", _("At most %(n)d files per report.") % {"n": settings.ATTACHMENT_MAX_COUNT})
        return data

    def to_input(self) -> ReportInput:
        d = self.cleaned_data
        real = d["anonymous"] == "real_name"
        return ReportInput(
            anonymous=not real,
            title=d["title"],
            description=d["description"],
            region_code=d["region_code"],
            item_type=d["item_type"],
            name=d.get("name", "") if real else "",
            id_number=d.get("id_number", "") if real else "",
            phone=d.get("phone", "") if real else "",
            email=d.get("email", "") if real else "",
            party_kind=d.get("party_kind") or PartyKind.PERSON,
            party_name=d.get("party_name", ""),
            party_post=d.get("party_post", ""),
            party_unit=d.get("party_unit", ""),
            attachments=d.get("attachments") or [],
        )

    # Keys of services' ValidationFailed -> fields of this form.
    DOMAIN_FIELDS = {
        "reporter.name": "name",
        "reporter.phone": "phone",
        "reporter.id_number": "id_number",
        "reporter.email": "email",
        "parties[0].name": "party_name",
        "region_code": "region_province",
        "title": "title",
        "description": "description",
        "attachments": "attachments",
        "item_type": "item_type",
    }

    def apply_domain_errors(self, fields: dict[str, list[str]]) -> None:
        for key, messages in fields.items():
            name = self.DOMAIN_FIELDS.get(key)
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class FollowUpForm(forms.Form):
    case_number = forms.CharField(
        label=pgettext_lazy("portal", "Case number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
        error_messages={"required": _("Enter the case number from your receipt.")},
    )
    receipt_code = forms.CharField(
        label=_("Receipt code"),
        max_length=60,
        widget=forms.PasswordInput(
            render_value=True, attrs={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"}
        ),
        error_messages={"required": _("Enter the receipt code you were given.")},
    )


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        max_length=MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write your message.")},
    )


class InformationForm(forms.Form):
    text = forms.CharField(
        label=_("New facts or evidence"),
        max_length=MESSAGE_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    attachments = MultipleFileField(label=_("Files"))


class ReturnVisitForm(forms.Form):
    problem_solved = forms.TypedChoiceField(
        label=_("Was the problem you reported solved?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether your problem was solved.")},
    )
    satisfaction = forms.TypedChoiceField(
        label=_("How satisfied are you with how your report was handled?"),
        choices=[
            ("5", _("5 · very satisfied")),
            ("4", _("4 · satisfied")),
            ("3", _("3 · neither")),
            ("2", _("2 · dissatisfied")),
            ("1", _("1 · very dissatisfied")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how satisfied you are, from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Anything else you want to tell the office? (optional)"),
        max_length=MESSAGE_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OfficeReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply to the reporter"),
        max_length=MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write your message.")},
    )

"""Registration forms: one form per part of the unified entry standard, parties as a formset.

The forms check types and shapes; the domain rules (contacts of a real-name reporter, ID
number check digits, known categories, file types and sizes …) stay in
intake.services.case_register, whose ValidationFailed keys `apply_domain_errors` puts back
beside the matching fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qingfeng.cases.choices import Channel, Gender, ItemType, PartyKind, Rank, Source, Urgency
from qingfeng.intake.services import PartyInput, RegistrationInput, ReporterInput
from qingfeng.web.selectors import category_choices, localized_name

REGION_PATTERN = r"^\d{2}(\d{2}(\d{2}(\d{3})?)?)?$"
REGION_MESSAGE = _("Give the region code where the problem happened (2, 4, 6 or 9 digits).")
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
YES_NO_UNKNOWN = [("", _("Not given")), ("true", _("Yes")), ("false", _("No"))]


def _blank(choices: Any, label: Any = None) -> list[tuple[str, Any]]:
    return [("", label or _("Not given")), *[(v, lbl) for v, lbl in choices if v != ""]]


class NullBooleanChoiceField(forms.TypedChoiceField):
    """Yes / No / not given, as a select: None when not given."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(choices=YES_NO_UNKNOWN, coerce=lambda v: v == "true", empty_value=None, **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented pattern)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class RegistrationForm(forms.Form):
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices, widget=forms.RadioSelect)
    received_at = forms.DateTimeField(
        label=_("received at"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("Leave as is for now."),
    )
    source = forms.ChoiceField(label=_("source"), choices=Source.choices, initial=Source.OWN_LEVEL)
    item_type = forms.ChoiceField(label=_("item type"), choices=ItemType.choices, initial=ItemType.ACCUSATION)
    urgency = forms.ChoiceField(label=_("urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    is_group_visit = forms.BooleanField(label=_("group visit"), required=False)
    head_count = forms.IntegerField(label=_("head count"), required=False, min_value=1, max_value=100000)
    region_code = forms.RegexField(
        label=_("problem region"),
        regex=REGION_PATTERN,
        max_length=12,
        error_messages={"invalid": REGION_MESSAGE},
        help_text=_("Region code where the problem happened, e.g. 110101."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "list": "region-codes", "autocomplete": "off"}),
    )
    categories = forms.MultipleChoiceField(label=_("categories"), required=False)
    tags = forms.MultipleChoiceField(label=_("key areas and topics"), required=False)
    keywords = forms.CharField(label=_("keywords"), required=False, max_length=200)
    title = forms.CharField(label=_("title"), max_length=200)
    description = forms.CharField(label=_("description"), max_length=50000, widget=forms.Textarea(attrs={"rows": 8}))
    ocr_text = forms.CharField(
        label=_("OCR text of scans"), required=False, max_length=200000, widget=forms.Textarea(attrs={"rows": 4})
    )
    leader_instructions = forms.CharField(
        label=_("leaders' instructions"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    attachments = MultipleFileField(
        label=_("attachments"),
        required=False,
        help_text=_("Scans, photos, documents or recordings; several files may be chosen."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from qingfeng.cases.models import Tag

        self.fields["categories"].choices = category_choices()  # type: ignore[attr-defined]
        self.fields["tags"].choices = [(t.code, localized_name(t)) for t in Tag.objects.filter(active=True)]  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("received_at", timezone.localtime().replace(second=0, microsecond=0))


class ReporterForm(forms.Form):
    anonymous = forms.TypedChoiceField(
        label=_("reporter"),
        choices=[("true", _("Anonymous")), ("false", _("Real name"))],
        coerce=lambda v: v == "true",
        initial="true",
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("name"), required=False, max_length=100, help_text=_("Or the unit's name."))
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=30)
    phone = forms.CharField(label=_("phone"), required=False, max_length=40)
    phone2 = forms.CharField(label=_("other phone"), required=False, max_length=40)
    email = forms.EmailField(label=_("email"), required=False)
    address = forms.CharField(label=_("address"), required=False, max_length=300)
    gender = forms.ChoiceField(label=_("gender"), required=False, choices=_blank(Gender.choices))
    party_member = NullBooleanChoiceField(label=_("party member"))
    occupation = forms.CharField(label=_("occupation"), required=False, max_length=100)
    rank = forms.ChoiceField(label=_("rank"), required=False, choices=_blank(Rank.choices))
    unit = forms.CharField(label=_("unit"), required=False, max_length=200)
    region_code = forms.RegexField(
        label=_("region"),
        regex=r"^(\d{2,12})?$",
        required=False,
        max_length=12,
        error_messages={"invalid": REGION_MESSAGE},
    )


class PartyForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=PartyKind.choices, initial=PartyKind.PERSON)
    name = forms.CharField(label=_("name"), max_length=100)
    post = forms.CharField(label=_("post"), required=False, max_length=100)
    rank = forms.ChoiceField(label=_("rank"), required=False, choices=_blank(Rank.choices))
    unit = forms.CharField(label=_("unit"), required=False, max_length=200)
    unit_nature = forms.CharField(label=_("nature of unit"), required=False, max_length=50)
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=30)
    gender = forms.ChoiceField(label=_("gender"), required=False, choices=_blank(Gender.choices))
    birth_date = forms.DateField(label=_("birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    party_member = NullBooleanChoiceField(label=_("party member"))
    region_code = forms.RegexField(
        label=_("region"),
        regex=r"^(\d{2,12})?$",
        required=False,
        max_length=12,
        error_messages={"invalid": REGION_MESSAGE},
    )
    managed_at_this_level = NullBooleanChoiceField(label=_("cadre managed at this level"))


PartyFormSet = forms.formset_factory(PartyForm, extra=1, can_delete=True, max_num=50, validate_max=True)


class Registration:
    """The registration page's forms, bound or unbound, and their translation to the service input."""

    def __init__(self, data: Any = None, files: Any = None, *, extra_parties: int = 0) -> None:
        self.main = RegistrationForm(data, files)
        self.reporter = ReporterForm(data, prefix="reporter")
        party_data = data
        if extra_parties and data is not None:
            # "Add a party" without JavaScript: the same data with more blank rows.
            party_data = data.copy()
            try:
                total = int(data.get("parties-TOTAL_FORMS") or 0)
            except ValueError:
                total = 0
            party_data["parties-TOTAL_FORMS"] = str(min(total + extra_parties, 50))
        self.parties = PartyFormSet(party_data, prefix="parties")
        # parties[i] in the service's errors is the i-th party it was given.
        self.party_forms: list[PartyForm] = []

    def is_valid(self) -> bool:
        results = [self.main.is_valid(), self.reporter.is_valid(), self.parties.is_valid()]
        return all(results)

    def to_input(self) -> RegistrationInput:
        m = self.main.cleaned_data
        r = self.reporter.cleaned_data
        self.party_forms = [
            f  # type: ignore[misc]
            for f in self.parties.forms
            if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        parties = []
        for f in self.party_forms:
            p = {k: v for k, v in f.cleaned_data.items() if k != "DELETE"}
            parties.append(PartyInput(**p))
        return RegistrationInput(
            channel=m["channel"],
            title=m["title"],
            description=m["description"],
            region_code=m["region_code"],
            received_at=m.get("received_at"),
            source=m["source"],
            item_type=m["item_type"],
            urgency=m["urgency"],
            is_group_visit=bool(m.get("is_group_visit")),
            head_count=m.get("head_count"),
            categories=list(m.get("categories") or []),
            tags=list(m.get("tags") or []),
            keywords=m.get("keywords") or "",
            ocr_text=m.get("ocr_text") or "",
            leader_instructions=m.get("leader_instructions") or "",
            reporter=ReporterInput(**r),
            parties=parties,
            attachments=list(m.get("attachments") or []),
        )

    def check_input(self) -> RegistrationInput | None:
        """What a repeat check needs, read leniently from whatever is typed so far.

        The check runs before the form is complete (no channel chosen yet, say), so each field
        is cleaned on its own and an invalid or missing one is simply left out. None when
        there is neither a title nor a description to compare.
        """
        title = str(_lenient(self.main, "title") or "")
        description = str(_lenient(self.main, "description") or "")
        if not (title.strip() or description.strip()):
            return None
        reporter = ReporterInput(
            name=str(_lenient(self.reporter, "name") or ""),
            phone=str(_lenient(self.reporter, "phone") or ""),
            phone2=str(_lenient(self.reporter, "phone2") or ""),
            id_number=str(_lenient(self.reporter, "id_number") or ""),
        )
        parties = []
        for f in self.parties.forms:
            name = str(_lenient(f, "name") or "")
            if name.strip() and not _lenient(f, "DELETE"):
                kind = str(_lenient(f, "kind") or PartyKind.PERSON)
                parties.append(PartyInput(name=name, kind=kind, unit=str(_lenient(f, "unit") or "")))
        return RegistrationInput(
            channel="",
            title=title,
            description=description,
            region_code=str(_lenient(self.main, "region_code") or ""),
            reporter=reporter,
            parties=parties,
        )

    def quiet(self) -> None:
        """Show the typed values without "required" errors: a repeat check is not a registration attempt."""
        # Django validates a bound form when its errors are first read; presetting the error
        # caches to empty keeps the values shown and the form unvalidated.
        for form in (self.main, self.reporter, *self.parties.forms):
            setattr(form, "_errors", ErrorDict())  # noqa: B010
        setattr(self.parties, "_errors", [ErrorDict() for _form in self.parties.forms])  # noqa: B010
        setattr(self.parties, "_non_form_errors", self.parties.error_class())  # noqa: B010

    def has_files(self) -> bool:
        return bool(self.main.files and self.main.files.getlist("attachments"))

    def apply_domain_errors(self, fields: dict[str, list[str]]) -> None:
        """Put the service's field errors ("title", "reporter.phone", "parties[0].name") beside the fields."""
        for key, messages in fields.items():
            form, name = self._locate(key)
            for message in messages:
                if name is not None and name in form.fields:
                    form.add_error(name, message)
                else:
                    form.add_error(None, f"{key}: {message}" if name else message)

    def _locate(self, key: str) -> tuple[forms.Form, str | None]:
        if key.startswith("reporter."):
            return self.reporter, key.split(".", 1)[1]
        if key.startswith("parties["):
            index_part, _dot, name = key.partition("].")
            try:
                index = int(index_part[len("parties[") :])
                return self.party_forms[index], name or None
            except (ValueError, IndexError):
                return self.main, None
        if key in ("non_field_errors", "__all__"):
            return self.main, None
        return self.main, key


def _lenient(form: forms.Form, name: str) -> Any:
    """One field of a bound form, cleaned on its own; None if it is missing or invalid."""
    field = form.fields.get(name)
    if field is None:
        return None
    raw = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
    try:
        return field.clean(raw)
    except ValidationError:
        return None

"""The case register: cases, reporters, reported parties, attachments and events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
from qingfeng.core.crypto import EncryptedTextField


class Category(models.Model):
    """Problem category (问题类别), a configurable tree."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=200, db_index=True)
    active = models.BooleanField(default=True)
    sort = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["path"]
        verbose_name = _("problem category")
        verbose_name_plural = _("problem categories")

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """Key area / industry (重点领域) or special topic (专项), configurable."""

    class Kind(models.TextChoices):
        KEY_AREA = "key_area", _("Key area or industry")
        TOPIC = "topic", _("Special topic")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    Status = Status

    number = models.CharField(_("case number"), max_length=40, unique=True)
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True)
    received_office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, related_name="received_cases", verbose_name=_("receiving office")
    )
    holding_office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, related_name="held_cases", verbose_name=_("holding office")
    )
    received_at = models.DateTimeField(_("received at"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.OWN_LEVEL)
    item_type = models.CharField(_("item type"), max_length=16, choices=ItemType.choices, default=ItemType.ACCUSATION)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    is_group_visit = models.BooleanField(_("group visit"), default=False)
    head_count = models.PositiveIntegerField(_("head count"), null=True, blank=True)
    region_code = models.CharField(_("problem region"), max_length=12, db_index=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="cases", verbose_name=_("categories"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases", verbose_name=_("key areas and topics"))
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    ocr_text = models.TextField(_("OCR text of scans"), blank=True)
    # jieba tokens of title + description, space separated: full-text search for Chinese.
    search_tokens = models.TextField(blank=True, editable=False)
    leader_instructions = models.TextField(_("leaders' instructions"), blank=True)
    handling_mode = models.CharField(_("handling mode"), max_length=16, choices=HandlingMode.choices, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("state"), max_length=16, choices=Status.choices, default=Status.RECEIVED)
    is_real_name = models.BooleanField(_("real-name"), default=False)
    is_repeat = models.BooleanField(_("repeat"), default=False)
    repeat_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="repeats")
    not_accepted_reason = models.CharField(max_length=16, choices=NotAcceptedReason.choices, blank=True)
    study_opinion = models.TextField(_("collective-study opinion"), blank=True)
    disposal_way = models.CharField(_("disposal"), max_length=16, choices=DisposalWay.choices, blank=True)
    inquiry_outcome = models.CharField(_("inquiry outcome"), max_length=16, choices=InquiryOutcome.choices, blank=True)
    substantiation = models.CharField(_("substantiation"), max_length=16, choices=Substantiation.choices, blank=True)
    sanctions = models.TextField(_("sanctions"), blank=True)
    losses_recovered = models.DecimalField(
        _("losses recovered (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    name_cleared = models.BooleanField(_("name cleared"), default=False)
    conclusion = models.TextField(_("conclusion"), blank=True)
    concluded_at = models.DateTimeField(null=True, blank=True)
    fed_back_at = models.DateTimeField(null=True, blank=True)
    acceptance_notified_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    problem_solved = models.BooleanField(_("problem solved"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        "offices.Office", null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_cases"
    )
    # Deadlines, recomputed at each transition by deadlines.services.case_recompute_deadlines.
    screening_due = models.DateField(null=True, blank=True)
    accept_due = models.DateField(null=True, blank=True)
    acceptance_notice_due = models.DateField(null=True, blank=True)
    inquiry_answer_due = models.DateField(null=True, blank=True)
    inquiry_report_due = models.DateField(null=True, blank=True)
    assignment_due = models.DateField(null=True, blank=True)
    feedback_due = models.DateField(null=True, blank=True)
    # The earliest open deadline, its warning point and its serious-overdue point.
    next_due = models.DateField(null=True, blank=True, db_index=True)
    next_due_kind = models.CharField(max_length=32, blank=True)
    next_warn_on = models.DateField(null=True, blank=True, db_index=True)
    next_serious_on = models.DateField(null=True, blank=True)
    # Last level notified by check_deadlines (0 none, 1 warn, 2 overdue, 3 seriously overdue).
    deadline_level = models.PositiveSmallIntegerField(default=0)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # When the holding office got the case (registration, or arrival by transfer/assignment).
    held_since = models.DateTimeField(null=True, blank=True)
    disposed_at = models.DateTimeField(null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["received_office", "external_id"],
                name="uniq_case_external_id",
                condition=models.Q(external_id__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["holding_office", "-received_at"], name="case_holding_recv"),
            models.Index(fields=["status", "-received_at"], name="case_status_recv"),
            models.Index(fields=["-received_at", "-id"], name="case_recv_id"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class CaseAccess(models.Model):
    """Which offices may read a case: every office that has held it, unless hidden.

    A transfer or assignment adds the receiving office and keeps the sender; an item
    sent up because it concerns the receiving commission's own leaders hides it from
    the sender.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="access")
    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="+")
    # Denormalised so an office's case list is one index range, newest first.
    received_at = models.DateTimeField()
    hidden = models.BooleanField(default=False)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "office"], name="uniq_case_access")]
        indexes = [models.Index(fields=["office", "-received_at", "case"], name="access_office_recv")]

    def __str__(self) -> str:
        return f"{self.case_id}@{self.office_id}"


class CaseNumberSequence(models.Model):
    """Gap-free per office and year: bumped in the registering transaction under a row lock."""

    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["office", "year"], name="uniq_case_seq")]

    def __str__(self) -> str:
        return f"{self.office_id}/{self.year}: {self.last_value}"


class Reporter(models.Model):
    """The reporter. Identity and contact fields are encrypted; lookups use keyed hashes."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="reporter")
    is_anonymous = models.BooleanField(_("anonymous"), default=True)
    name = EncryptedTextField(_("name"), blank=True)
    id_number = EncryptedTextField(_("ID number"), blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    phone2 = EncryptedTextField(_("other phone"), blank=True)
    email = EncryptedTextField(_("email"), blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    party_member = models.BooleanField(_("party member"), null=True, blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    rank = models.CharField(_("rank"), max_length=16, choices=Rank.choices, blank=True)
    unit = EncryptedTextField(_("unit"), blank=True)
    region_code = models.CharField(_("region"), max_length=12, blank=True)
    name_hash = models.CharField(max_length=64, blank=True, db_index=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    phone2_hash = models.CharField(max_length=64, blank=True, db_index=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)

    def __str__(self) -> str:
        return "anonymous" if self.is_anonymous else "real-name reporter"


class ReportedParty(models.Model):
    # Indexed with match_key below (case first), which also serves lookups by case.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reported_parties", db_index=False)
    kind = models.CharField(_("kind"), max_length=16, choices=PartyKind.choices, default=PartyKind.PERSON)
    name = models.CharField(_("name"), max_length=100)
    id_number = EncryptedTextField(_("ID number"), blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    party_member = models.BooleanField(_("party member"), null=True, blank=True)
    post = models.CharField(_("post"), max_length=100, blank=True)
    rank = models.CharField(_("rank"), max_length=16, choices=Rank.choices, blank=True)
    unit = models.CharField(_("unit"), max_length=200, blank=True)
    unit_nature = models.CharField(_("nature of unit"), max_length=50, blank=True)
    region_code = models.CharField(_("region"), max_length=12, blank=True)
    managed_at_this_level = models.BooleanField(_("cadre managed at this level"), null=True, blank=True)
    # Normalised "name|unit" used by repeat detection and by analytics.
    match_key = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        # Both carry case and key, so repeat detection reads the index alone: a reported party's
        # newest cases (a common name has thousands of rows; a key-only index cost a row read
        # each) and the candidates' keys.
        indexes = [
            models.Index(fields=["match_key", "case"], name="party_match_key_case"),
            models.Index(fields=["case", "match_key"], name="party_case_match_key"),
        ]

    def __str__(self) -> str:
        return self.name


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never reuses the uploaded one: it could identify the reporter.
    return f"attachments/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    is_scan = models.BooleanField(_("scan of the letter"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class CaseEvent(models.Model):
    """One row per workflow step: the case's timeline, audit trail and supervision feed."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    office = models.ForeignKey("offices.Office", on_delete=models.PROTECT, related_name="+")
    target_office = models.ForeignKey(
        "offices.Office", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="event_case_time")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_status}->{self.to_status}"

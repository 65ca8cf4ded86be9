"""Input and output shapes of the case API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qingfeng.cases.choices import (
    Channel,
    DisposalWay,
    Gender,
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
from qingfeng.cases.models import Attachment, Case, CaseEvent, ReportedParty, Reporter
from qingfeng.cases.workflow import Action
from qingfeng.deadlines import rules
from qingfeng.deadlines.services import open_deadlines
from qingfeng.intake.services import PartyInput, RegistrationInput, ReporterInput
from qingfeng.protection.selectors import HANDLING_ROLES, can_see_identity

# --- registration input ------------------------------------------------------------------


class ReporterInSerializer(serializers.Serializer):
    anonymous = serializers.BooleanField(default=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=30, default="")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    phone2 = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    address = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True, default="")
    party_member = serializers.BooleanField(required=False, allow_null=True, default=None)
    occupation = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    rank = serializers.ChoiceField(choices=Rank.choices, required=False, allow_blank=True, default="")
    unit = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    region_code = serializers.CharField(required=False, allow_blank=True, max_length=12, default="")


class PartyInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PartyKind.choices, default=PartyKind.PERSON)
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=30, default="")
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True, default="")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    party_member = serializers.BooleanField(required=False, allow_null=True, default=None)
    post = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    rank = serializers.ChoiceField(choices=Rank.choices, required=False, allow_blank=True, default="")
    unit = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    unit_nature = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    region_code = serializers.CharField(required=False, allow_blank=True, max_length=12, default="")
    managed_at_this_level = serializers.BooleanField(required=False, allow_null=True, default=None)


class RegistrationSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    source = serializers.ChoiceField(choices=Source.choices, default=Source.OWN_LEVEL)  # type: ignore[assignment]
    item_type = serializers.ChoiceField(choices=ItemType.choices, default=ItemType.ACCUSATION)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    is_group_visit = serializers.BooleanField(default=False)
    head_count = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=100000, default=None)
    region_code = serializers.RegexField(
        r"^\d{2}(\d{2}(\d{2}(\d{3})?)?)?$",
        error_messages={"invalid": _("Give the region code where the problem happened (2, 4, 6 or 9 digits).")},
    )
    categories = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list)
    tags = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list)
    keywords = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=50000)
    ocr_text = serializers.CharField(required=False, allow_blank=True, max_length=200000, default="")
    leader_instructions = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    external_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64, default=None)
    reporter = ReporterInSerializer(required=False)
    parties = PartyInSerializer(many=True, required=False, default=list)
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list, write_only=True)

    def to_input(self) -> RegistrationInput:
        d: dict[str, Any] = dict(self.validated_data)
        rep = d.pop("reporter", None) or {}
        parties = d.pop("parties", [])
        return RegistrationInput(
            **d,
            reporter=ReporterInput(**rep) if rep else ReporterInput(),
            parties=[PartyInput(**p) for p in parties],
        )


class RegistrationBatchSerializer(serializers.Serializer):
    """Several reports, each the JSON of single registration (without files)."""

    reports = serializers.ListField(child=serializers.DictField(), allow_empty=False)


class CaseBatchItemSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()


class CaseBatchCreatedSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    cases = CaseBatchItemSerializer(many=True)


# --- output --------------------------------------------------------------------------------

# The need-to-know rule lives in one place: qingfeng.protection.selectors (re-exported here).
__all__ = ["HANDLING_ROLES", "can_see_identity"]


class ReporterOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reporter
        fields = [
            "is_anonymous",
            "name",
            "id_number",
            "phone",
            "phone2",
            "email",
            "address",
            "gender",
            "party_member",
            "occupation",
            "rank",
            "unit",
            "region_code",
        ]


class PartyOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportedParty
        fields = [
            "id",
            "kind",
            "name",
            "gender",
            "birth_date",
            "party_member",
            "post",
            "rank",
            "unit",
            "unit_nature",
            "region_code",
            "managed_at_this_level",
        ]


class AttachmentOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "is_scan", "created_at"]


class EventOutSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    office = serializers.CharField(source="office.code")
    office_name = serializers.CharField(source="office.name")
    target_office = serializers.CharField(source="target_office.code", allow_null=True, default=None)

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "action",
            "from_status",
            "to_status",
            "actor",
            "office",
            "office_name",
            "target_office",
            "reason",
            "data",
            "created_at",
        ]

    def get_actor(self, obj: CaseEvent) -> str | None:
        return str(obj.actor) if obj.actor_id else None


class CaseListSerializer(serializers.ModelSerializer):
    holding_office = serializers.CharField(source="holding_office.code")
    holding_office_name = serializers.CharField(source="holding_office.name")

    class Meta:
        model = Case
        fields = [
            "number",
            "title",
            "status",
            "channel",
            "source",
            "item_type",
            "urgency",
            "region_code",
            "received_at",
            "holding_office",
            "holding_office_name",
            "is_real_name",
            "is_repeat",
            "next_due",
            "next_due_kind",
            "deadline_level",
        ]


# --- repeat detection ------------------------------------------------------------------------


class RepeatStateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    label = serializers.CharField()  # type: ignore[assignment]


class RepeatDisposalSerializer(serializers.Serializer):
    way = serializers.ChoiceField(choices=DisposalWay.choices)
    label = serializers.CharField()  # type: ignore[assignment]


class RepeatOutcomeSerializer(serializers.Serializer):
    inquiry_outcome = serializers.CharField(help_text=_("Outcome of a preliminary inquiry, if any."))
    substantiation = serializers.CharField(help_text=_("Substantiation of a concluded case, if any."))
    label = serializers.CharField(help_text=_("The substantiation or inquiry outcome, in words."))  # type: ignore[assignment]
    conclusion = serializers.CharField()


class RepeatReturnVisitSerializer(serializers.Serializer):
    problem_solved = serializers.BooleanField(allow_null=True)
    satisfaction = serializers.IntegerField(allow_null=True, min_value=1, max_value=5)


class RepeatCandidateSerializer(serializers.Serializer):
    """An earlier case that may be about the same matter (qingfeng.repeats.check.candidate_payload).

    A `restricted` candidate is another office's case found through the reporter's own phone or
    ID number: only its number and holding office are given, every other detail is null.
    """

    case_number = serializers.CharField()
    holding_office = serializers.CharField(help_text=_("Name of the office holding the earlier case."))
    restricted = serializers.BooleanField()
    score = serializers.FloatField(min_value=0, max_value=1)
    flag = serializers.BooleanField(help_text=_("Same matter: treat the new report as a repeat of this case."))
    reasons = serializers.ListField(child=serializers.CharField(), help_text=_("Why it matched, in words."))
    signals = serializers.ListField(
        child=serializers.CharField(), help_text=_("Codes of the matching signals, e.g. same_phone, similar_text.")
    )
    external_id = serializers.CharField(allow_null=True)
    title = serializers.CharField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)
    state = RepeatStateSerializer(allow_null=True)
    disposal = RepeatDisposalSerializer(allow_null=True)
    outcome = RepeatOutcomeSerializer(allow_null=True)
    return_visit = RepeatReturnVisitSerializer(allow_null=True)
    text_similarity = serializers.FloatField(allow_null=True, help_text=_("Character-bigram Jaccard, 0 to 1."))
    semantic_similarity = serializers.FloatField(allow_null=True, help_text=_("Cosine of the text embeddings."))


class RepeatCheckSerializer(serializers.Serializer):
    candidates = RepeatCandidateSerializer(many=True)


# Unbound output fields: they format as the serializers' own fields do (ISO 8601, in the active
# time zone) without a serializer around them.
_DATETIME_OUT = serializers.DateTimeField()
_DATE_OUT = serializers.DateField()


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def repeat_candidates_data(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`RepeatCandidateSerializer(payloads, many=True).data`, built directly.

    The serializer deep-copies its fields and its four nested serializers' fields for every
    candidate: for the ten candidates of a registration answer that was a tenth of the
    request's CPU. The payloads (`repeats.check.candidate_payload`) already have the shape, so
    only the types are settled here; a test holds this equal to the serializer's output.
    """
    out = []
    for p in payloads:
        d = dict(p)
        d["score"] = float(p["score"])
        d["text_similarity"] = _float(p["text_similarity"])
        d["semantic_similarity"] = _float(p["semantic_similarity"])
        d["received_at"] = None if p["received_at"] is None else _DATETIME_OUT.to_representation(p["received_at"])
        out.append(d)
    return out


def case_created_data(case: Case, candidates: list[dict[str, Any]]) -> dict[str, Any]:
    """`CaseCreatedSerializer(case, context={"repeat_candidates": candidates}).data`, built directly
    (registration's answer, on every registration; a test holds the two equal)."""
    return {
        "number": case.number,
        "status": case.status,
        "received_at": _DATETIME_OUT.to_representation(case.received_at),
        "holding_office": case.holding_office.code,
        "channel": case.channel,
        "item_type": case.item_type,
        "title": case.title,
        "categories": [c.code for c in case.categories.all()],
        "is_real_name": case.is_real_name,
        "next_due": None if case.next_due is None else _DATE_OUT.to_representation(case.next_due),
        "next_due_kind": case.next_due_kind,
        "url": f"/api/v1/cases/{case.number}/",
        "repeat_candidates": repeat_candidates_data(candidates),
    }


class CaseCreatedSerializer(serializers.ModelSerializer):
    """What registration answers: enough to confirm and follow the case, without identity.

    The full record (timeline, allowed actions, identity) is one GET away; leaving it out keeps
    registration cheap and writes no identity-view audit entry for a clerk's own typing.
    """

    holding_office = serializers.CharField(source="holding_office.code")
    categories = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)  # type: ignore[var-annotated]
    url = serializers.SerializerMethodField()
    repeat_candidates = serializers.SerializerMethodField(
        help_text=_("Earlier cases about the same matter (as POST /api/v1/repeat-check/ answers), best first.")
    )

    class Meta:
        model = Case
        fields = [
            "number",
            "status",
            "received_at",
            "holding_office",
            "channel",
            "item_type",
            "title",
            "categories",
            "is_real_name",
            "next_due",
            "next_due_kind",
            "url",
            "repeat_candidates",
        ]

    def get_url(self, obj: Case) -> str:
        return f"/api/v1/cases/{obj.number}/"

    @extend_schema_field(RepeatCandidateSerializer(many=True))
    def get_repeat_candidates(self, obj: Case) -> Any:
        """The candidates the view found (context "repeat_candidates": payload dicts)."""
        return RepeatCandidateSerializer(self.context.get("repeat_candidates", []), many=True).data


class DeadlineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    due = serializers.DateField()


class CaseDetailSerializer(serializers.ModelSerializer):
    holding_office = serializers.CharField(source="holding_office.code")
    holding_office_name = serializers.CharField(source="holding_office.name")
    received_office = serializers.CharField(source="received_office.code")
    repeat_of = serializers.CharField(source="repeat_of.number", allow_null=True, default=None)
    assigned_by = serializers.CharField(source="assigned_by.code", allow_null=True, default=None)
    categories = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)  # type: ignore[var-annotated]
    tags = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)  # type: ignore[var-annotated]
    reporter = serializers.SerializerMethodField()
    parties = PartyOutSerializer(source="reported_parties", many=True, read_only=True)
    attachments = AttachmentOutSerializer(many=True, read_only=True)
    open_deadlines = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    class Meta:
        model = Case
        exclude = ["id", "search_tokens", "handler", "created_by"]

    @extend_schema_field(ReporterOutSerializer(allow_null=True))
    def get_reporter(self, obj: Case) -> dict[str, Any] | None:
        reporter = getattr(obj, "reporter", None)
        if reporter is None:
            return None
        user = self.context["request"].user
        if can_see_identity(user, obj):
            if not reporter.is_anonymous or reporter.phone:
                from qingfeng.protection.services import audit_identity_view

                audit_identity_view(actor=user, case=obj, channel="api")
            return dict(ReporterOutSerializer(reporter).data)
        if reporter.is_anonymous:
            return {"is_anonymous": True}
        return {"is_anonymous": False, "name": str(_("real-name reporter (identity protected)"))}

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_open_deadlines(self, obj: Case) -> list[dict[str, Any]]:
        return [
            {"kind": k, "label": str(rules.LABELS.get(k, k)), "due": d}
            for k, d in sorted(open_deadlines(obj).items(), key=lambda i: i[1])
        ]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Action.choices)))
    def get_allowed_actions(self, obj: Case) -> list[str]:
        from qingfeng.cases.services import allowed_actions

        return allowed_actions(case=obj, user=self.context["request"].user)

    @extend_schema_field(EventOutSerializer(many=True))
    def get_timeline(self, obj: Case) -> list[dict[str, Any]]:
        from qingfeng.cases.selectors import case_timeline

        return list(EventOutSerializer(case_timeline(obj), many=True).data)


# --- workflow action inputs: one serializer per action -------------------------------------


class ActionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ScreenSerializer(ActionSerializer):
    item_type = serializers.ChoiceField(choices=ItemType.choices, required=False)


class NotAcceptSerializer(ActionSerializer):
    not_accepted_reason = serializers.ChoiceField(choices=NotAcceptedReason.choices)


class SendUpSerializer(ActionSerializer):
    concerns_own_leaders = serializers.BooleanField(default=False)


class TransferSerializer(ActionSerializer):
    target_office = serializers.CharField(max_length=12)


class AssignSerializer(TransferSerializer):
    due_date = serializers.DateField()


class MarkRepeatSerializer(ActionSerializer):
    repeat_of = serializers.CharField(max_length=40)
    new_facts = serializers.BooleanField(default=False)


class AcceptSerializer(ActionSerializer):
    handler = serializers.IntegerField(required=False, allow_null=True)


class DisposeSerializer(ActionSerializer):
    way = serializers.ChoiceField(choices=DisposalWay.choices)
    study_opinion = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class InquiryOutcomeSerializer(ActionSerializer):
    outcome = serializers.ChoiceField(choices=InquiryOutcome.choices)


class ConcludeSerializer(ActionSerializer):
    substantiation = serializers.ChoiceField(choices=Substantiation.choices)
    conclusion = serializers.CharField(max_length=10000)
    sanctions = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    losses_recovered = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    name_cleared = serializers.BooleanField(default=False)


class FeedBackSerializer(ActionSerializer):
    objection = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ReturnVisitSerializer(ActionSerializer):
    problem_solved = serializers.BooleanField()
    satisfaction = serializers.IntegerField(min_value=1, max_value=5)


ACTION_SERIALIZERS: dict[str, type[ActionSerializer]] = {
    Action.SCREEN: ScreenSerializer,
    Action.NOT_ACCEPT: NotAcceptSerializer,
    Action.SEND_UP: SendUpSerializer,
    Action.TRANSFER_DOWN: TransferSerializer,
    Action.ASSIGN: AssignSerializer,
    Action.MARK_REPEAT: MarkRepeatSerializer,
    Action.ACCEPT: AcceptSerializer,
    Action.NOTIFY_ACCEPTANCE: ActionSerializer,
    Action.RETURN: ActionSerializer,
    Action.DISPOSE: DisposeSerializer,
    Action.RECORD_INQUIRY_OUTCOME: InquiryOutcomeSerializer,
    Action.CONCLUDE: ConcludeSerializer,
    Action.FEED_BACK: FeedBackSerializer,
    Action.RECORD_RETURN_VISIT: ReturnVisitSerializer,
    Action.REOPEN: ActionSerializer,
    Action.ARCHIVE: ActionSerializer,
}


class CaseFilterSerializer(serializers.Serializer):
    status = serializers.MultipleChoiceField(choices=Status.choices, required=False)
    channel = serializers.MultipleChoiceField(choices=Channel.choices, required=False)
    item_type = serializers.MultipleChoiceField(choices=ItemType.choices, required=False)
    source = serializers.MultipleChoiceField(choices=Source.choices, required=False)  # type: ignore[assignment]
    category = serializers.CharField(required=False, max_length=32)
    region = serializers.RegexField(r"^\d{2,12}$", required=False)
    office = serializers.CharField(
        required=False, max_length=12, help_text="Holding office code: this office and its subtree"
    )
    deadline = serializers.ChoiceField(choices=["none", "ok", "due_soon", "overdue", "serious"], required=False)
    received_from = serializers.DateField(required=False)
    received_to = serializers.DateField(required=False)
    q = serializers.CharField(required=False, max_length=200, help_text="Full-text search of title and description")
    is_repeat = serializers.BooleanField(required=False, allow_null=True, default=None)
    is_real_name = serializers.BooleanField(required=False, allow_null=True, default=None)
    ordering = serializers.ChoiceField(
        choices=["-received_at", "received_at", "next_due", "-next_due", "number", "-number", "status"],
        required=False,
        default="-received_at",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("received_from") and attrs.get("received_to") and attrs["received_from"] > attrs["received_to"]:
            raise serializers.ValidationError({"received_to": _("The end date is before the start date.")})
        return attrs

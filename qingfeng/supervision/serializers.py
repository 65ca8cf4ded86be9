"""Input and output shapes of the supervision API."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from rest_framework import serializers

from qingfeng.cases.choices import Status
from qingfeng.cases.models import Case
from qingfeng.supervision.models import Chase, SupervisionForm, SupervisionMark
from qingfeng.supervision.selectors import BOARD_GROUPINGS, DEADLINE_FILTERS, ORDERINGS, days_held, deadline_info

# --- inputs ----------------------------------------------------------------------------------


class SentDownFilterSerializer(serializers.Serializer):
    status = serializers.MultipleChoiceField(choices=Status.choices, required=False)
    deadline = serializers.ChoiceField(choices=list(DEADLINE_FILTERS), required=False)
    supervised = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only cases your office supervises (or not)"
    )
    office = serializers.CharField(
        required=False, max_length=12, help_text="Holding office code: an office below yours, and its subtree"
    )
    q = serializers.CharField(required=False, max_length=100, help_text="Case number prefix or words of the title")
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False, default="next_due")


class BoardParamsSerializer(serializers.Serializer):
    by = serializers.ChoiceField(
        choices=list(BOARD_GROUPINGS),
        required=False,
        default="child",
        help_text="child: your direct lower offices (each counts its subtree); holder: the holding offices",
    )


class MarkInSerializer(serializers.Serializer):
    form = serializers.ChoiceField(choices=SupervisionForm.choices)
    note = serializers.CharField(max_length=2000)
    target_date = serializers.DateField()


class ChaseInSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=2000)


class CloseInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class AcknowledgeInSerializer(serializers.Serializer):
    reply = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


# --- outputs -----------------------------------------------------------------------------------


class MarkOutSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.number")
    office = serializers.CharField(source="office.code")
    office_name = serializers.CharField(source="office.name")
    target_office = serializers.CharField(source="target_office.code")
    created_by = serializers.StringRelatedField()  # type: ignore[var-annotated]
    closed_by = serializers.StringRelatedField()  # type: ignore[var-annotated]
    is_open = serializers.BooleanField()

    class Meta:
        model = SupervisionMark
        fields = [
            "id",
            "case",
            "office",
            "office_name",
            "target_office",
            "form",
            "note",
            "target_date",
            "created_by",
            "created_at",
            "is_open",
            "closed_at",
            "closed_by",
            "close_reason",
        ]


class ChaseOutSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.number")
    office = serializers.CharField(source="office.code")
    office_name = serializers.CharField(source="office.name")
    target_office = serializers.CharField(source="target_office.code")
    target_office_name = serializers.CharField(source="target_office.name")
    created_by = serializers.StringRelatedField()  # type: ignore[var-annotated]
    seen_by = serializers.StringRelatedField()  # type: ignore[var-annotated]

    class Meta:
        model = Chase
        fields = [
            "id",
            "case",
            "office",
            "office_name",
            "target_office",
            "target_office_name",
            "message",
            "created_by",
            "created_at",
            "seen_at",
            "seen_by",
            "reply",
        ]


class CaseSupervisionSerializer(serializers.Serializer):
    case = serializers.CharField()
    can_supervise = serializers.BooleanField()
    marks = MarkOutSerializer(many=True)
    chases = ChaseOutSerializer(many=True)


class SentDownCaseSerializer(serializers.ModelSerializer):
    holding_office = serializers.CharField(source="holding_office.code")
    holding_office_name = serializers.CharField(source="holding_office.name")
    days_held = serializers.SerializerMethodField()
    deadline_level = serializers.SerializerMethodField()
    next_due_label = serializers.SerializerMethodField()
    open_marks = serializers.IntegerField()
    our_mark_due = serializers.DateField(allow_null=True)
    last_chase_at = serializers.DateTimeField(allow_null=True)
    last_chase_seen_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        model = Case
        fields = [
            "number",
            "title",
            "status",
            "urgency",
            "source",
            "received_at",
            "holding_office",
            "holding_office_name",
            "held_since",
            "days_held",
            "next_due",
            "next_due_kind",
            "next_due_label",
            "next_warn_on",
            "next_serious_on",
            "deadline_level",
            "open_marks",
            "our_mark_due",
            "last_chase_at",
            "last_chase_seen_at",
        ]

    def _today(self) -> date:
        return self.context.get("today") or timezone.localdate()

    def get_days_held(self, obj: Case) -> int | None:
        return days_held(obj, self._today())

    def get_deadline_level(self, obj: Case) -> str:
        """none, ok, warn, overdue or serious, on today's date."""
        return deadline_info(obj, self._today()).level

    def get_next_due_label(self, obj: Case) -> str:
        return deadline_info(obj, self._today()).label


class BoardRowSerializer(serializers.Serializer):
    office = serializers.CharField(source="office.code")
    office_name = serializers.CharField(source="office.name")
    total = serializers.IntegerField(help_text="Overdue cases, seriously overdue included")
    serious = serializers.IntegerField()
    overdue_only = serializers.IntegerField()
    supervised = serializers.IntegerField(help_text="Of those, under your office's open supervision")
    oldest_due = serializers.DateField()
    max_days_late = serializers.IntegerField()


class BoardSerializer(serializers.Serializer):
    date = serializers.DateField()
    by = serializers.CharField()
    rows = BoardRowSerializer(many=True)

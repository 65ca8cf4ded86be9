"""Output shapes of the notifications API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qingfeng.notifications.models import Notification


# Documented as a string listing its values: an enum component would be named after the field
# ("KindEnum") and clash with the reported party's kind. Adding
# "NotificationKindEnum": "qingfeng.notifications.models.Notification.Kind" to ENUM_NAME_OVERRIDES
# in settings would allow a proper enum.
@extend_schema_field({"type": "string", "description": "One of: " + ", ".join(Notification.Kind.values)})
class KindField(serializers.CharField):
    pass


class NotificationSerializer(serializers.ModelSerializer):
    kind = KindField()
    kind_label = serializers.CharField(source="get_kind_display")
    case = serializers.CharField(source="case.number", allow_null=True, default=None)
    is_read = serializers.BooleanField(help_text="Read by you")

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "message", "case", "created_at", "is_read"]


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False, help_text="Only the ones you have not read")


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkAllReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread")
    unread = serializers.IntegerField()

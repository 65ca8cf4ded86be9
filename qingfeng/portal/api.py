"""The portal's JSON API: file a report, follow it up. No account, no session, no cookie.

CSRF: the views use no cookie or session authentication (authentication_classes = []), so a
forged cross-site request carries no ambient authority. Filing is still guarded against being
triggered from another site: a JSON body needs `Content-Type: application/json` and a multipart
body needs the `Idempotency-Key` header, and a browser sends neither cross-site without a CORS
preflight, which this API never grants. Follow-up accepts JSON only.

Errors leave as `{"message": ..., "extra": {...}}` through qingfeng.core.api.exception_handler.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from qingfeng.cases.choices import ItemType, PartyKind
from qingfeng.core import crypto
from qingfeng.core.errors import Conflict, ValidationFailed
from qingfeng.portal import regions, selectors, services
from qingfeng.portal.forms import TOKEN_PATTERN, phone_is_valid
from qingfeng.portal.throttling import TooManyAttempts, client_ip

IDEMPOTENCY_HEADER = "Idempotency-Key"


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    extra = serializers.DictField(required=False)


class ReportRequestSerializer(serializers.Serializer):
    idempotency_key = serializers.RegexField(
        TOKEN_PATTERN,
        required=False,
        help_text="16–64 characters [A-Za-z0-9_-], new for each report; or send the Idempotency-Key header.",
    )
    anonymous = serializers.BooleanField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    email = serializers.EmailField(required=False, allow_blank=True)
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=30)
    item_type = serializers.ChoiceField(
        choices=[(c.value, c.label) for c in services.PUBLIC_ITEM_TYPES], default=ItemType.ACCUSATION
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(min_length=10, max_length=20000)
    party_kind = serializers.ChoiceField(choices=PartyKind.choices, default=PartyKind.PERSON)
    party_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    party_post = serializers.CharField(required=False, allow_blank=True, max_length=100)
    party_unit = serializers.CharField(required=False, allow_blank=True, max_length=200)
    region_code = serializers.CharField(
        max_length=6, help_text="Province (2 digits), city (4) or county (6) code of the shipped region table."
    )
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)

    def validate_region_code(self, value: str) -> str:
        if regions.get(value) is None:
            raise serializers.ValidationError(_("Unknown region code."))
        return value

    def validate_phone(self, value: str) -> str:
        if value and not phone_is_valid(value):
            raise serializers.ValidationError(
                _("Enter a mobile number (11 digits, e.g. 13800138000) or a landline with its area code.")
            )
        return value

    def validate_id_number(self, value: str) -> str:
        if value and not crypto.id_number_is_valid(value):
            raise serializers.ValidationError(_("This ID card number is not valid: check the 18 characters."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        if not attrs["anonymous"]:
            if not (attrs.get("name") or "").strip():
                errors["name"] = [_("A real-name report needs your name (or your unit's name).")]
            if not attrs.get("phone") and not attrs.get("email"):
                errors["phone"] = [_("Give a phone number or an email address so the office can reach you.")]
        if attrs.get("item_type") == ItemType.ACCUSATION and not (attrs.get("party_name") or "").strip():
            errors["party_name"] = [_("Name the person or unit you are reporting.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_input(self) -> services.ReportInput:
        d = self.validated_data
        real = not d["anonymous"]
        return services.ReportInput(
            anonymous=not real,
            title=d["title"],
            description=d["description"],
            region_code=d["region_code"],
            item_type=d["item_type"],
            name=d.get("name", "") if real else "",
            id_number=d.get("id_number", "") if real else "",
            phone=d.get("phone", "") if real else "",
            email=d.get("email", "") if real else "",
            party_kind=d["party_kind"],
            party_name=d.get("party_name", ""),
            party_post=d.get("party_post", ""),
            party_unit=d.get("party_unit", ""),
            attachments=d.get("attachments") or [],
        )


class ReceiptSerializer(serializers.Serializer):
    case_number = serializers.CharField()
    receipt_code = serializers.CharField(
        allow_null=True, help_text="Shown once. Null on a retry after the retry window: it was in the first answer."
    )
    duplicate = serializers.BooleanField(help_text="True when this key had already filed the report.")
    follow_up_url = serializers.CharField()
    message = serializers.CharField()


class FollowUpRequestSerializer(serializers.Serializer):
    case_number = serializers.CharField(max_length=40)
    receipt_code = serializers.CharField(max_length=60)


class MessageSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["from_reporter", "from_office"])
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReturnVisitStateSerializer(serializers.Serializer):
    open = serializers.BooleanField()
    answered = serializers.BooleanField()


class FollowUpSerializer(serializers.Serializer):
    case_number = serializers.CharField()
    title = serializers.CharField()
    received_at = serializers.DateTimeField()
    status = serializers.ChoiceField(
        choices=["received", "accepted", "handling", "concluded", "not_accepted", "repeat"]
    )
    status_label = serializers.CharField()
    status_text = serializers.CharField()
    not_accepted_advice = serializers.CharField(allow_blank=True)
    conclusion = serializers.CharField(allow_blank=True)
    feedback = serializers.CharField(allow_blank=True)
    messages = MessageSerializer(many=True)
    return_visit = ReturnVisitStateSerializer()


class PortalAPIView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(exc, TooManyAttempts):
            response["Retry-After"] = str(exc.retry_after)
        return response


class ReportCreateView(PortalAPIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        operation_id="portal_report_create",
        summary="File a report and get its receipt code",
        request={"application/json": ReportRequestSerializer, "multipart/form-data": ReportRequestSerializer},
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                description="Required for multipart bodies; JSON bodies may send `idempotency_key` instead.",
            )
        ],
        responses={
            201: ReceiptSerializer,
            200: OpenApiResponse(ReceiptSerializer, description="A retry with the same key: the same receipt."),
            409: OpenApiResponse(ErrorSerializer, description="The key was used for a different report."),
            413: ErrorSerializer,
            422: ErrorSerializer,
            429: ErrorSerializer,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = ReportRequestSerializer(data=request.data)  # parses first: 415 for other content types
        key = self._key(request)
        serializer.is_valid(raise_exception=True)
        data = serializer.to_input()
        receipt = services.report_submit(data=data, token=key, via="api", client=client_ip(request))
        if receipt.duplicate and receipt.content_differs:
            raise Conflict(_("This idempotency key was already used for a different report. Use a new key."))
        if receipt.code:
            message = _("Keep the receipt code secret and safe: it is shown only once and cannot be recovered.")
        else:
            message = _("This report was filed earlier; its receipt code was given in the first answer.")
        body = {
            "case_number": receipt.case_number,
            "receipt_code": receipt.code,
            "duplicate": receipt.duplicate,
            "follow_up_url": request.build_absolute_uri(reverse("portal:follow-up")),
            "message": message,
        }
        response = Response(body, status=status.HTTP_200_OK if receipt.duplicate else status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    def _key(self, request: Request) -> str:
        header = request.headers.get(IDEMPOTENCY_HEADER, "")
        is_json = (request.content_type or "").startswith("application/json")
        field = request.data.get("idempotency_key", "") if is_json and hasattr(request.data, "get") else ""
        key = str(header or field or "").strip()
        if not key:
            hint = (
                _("Send a new Idempotency-Key header (or an idempotency_key field in a JSON body) with each report.")
                if is_json
                else _("A multipart report needs the Idempotency-Key header.")
            )
            raise ValidationFailed({"idempotency_key": [hint]})
        if not TOKEN_PATTERN.match(key):
            raise ValidationFailed({"idempotency_key": [_("Use 16 to 64 characters: letters, digits, - or _.")]})
        return key


class FollowUpView(PortalAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="portal_follow_up",
        summary="The state of a report, in plain words, and its messages",
        request=FollowUpRequestSerializer,
        responses={200: FollowUpSerializer, 403: ErrorSerializer, 422: ErrorSerializer, 429: ErrorSerializer},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = FollowUpRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        receipt = services.follow_up_verify(
            case_number=serializer.validated_data["case_number"],
            code=serializer.validated_data["receipt_code"],
            client=client_ip(request),
        )
        case = receipt.case
        public = selectors.public_status(case)
        visit = selectors.return_visit_state(case)
        body = {
            "case_number": case.number,
            "title": case.title,
            "received_at": case.received_at,
            "status": public.key,
            "status_label": public.label,
            "status_text": public.text,
            "not_accepted_advice": public.not_accepted_advice,
            "conclusion": public.conclusion,
            "feedback": public.feedback,
            "messages": [
                {"direction": m.direction, "body": m.body, "created_at": m.created_at}
                for m in selectors.case_messages(case)
            ],
            "return_visit": {"open": visit.open, "answered": visit.answered},
        }
        services.reporter_messages_mark_read(case=case)
        response = Response(FollowUpSerializer(body).data)
        response["Cache-Control"] = "no-store"
        return response

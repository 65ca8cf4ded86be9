"""Case API: thin views over intake.services, cases.services and cases.selectors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from qingfeng.accounts.models import Role
from qingfeng.cases import serializers as s
from qingfeng.cases.models import Attachment
from qingfeng.cases.selectors import CaseFilters, case_detail_prefetch, case_get_for_user, case_list
from qingfeng.cases.services import case_transition
from qingfeng.cases.workflow import Action
from qingfeng.core.errors import NotFound, PermissionDenied, TooLarge, ValidationFailed
from qingfeng.intake.services import RegistrationInput, case_register, case_register_many
from qingfeng.offices.models import Office
from qingfeng.offices.selectors import office_is_in_subtree
from qingfeng.protection.selectors import HANDLING_ROLES
from qingfeng.protection.services import audit_record
from qingfeng.repeats.check import audit_identity_probe, candidate_payload, repeat_check

REGISTER_ROLES = (Role.INTAKE_CLERK, Role.PETITION_HEAD)
# A repeat check probes by the reporter's phone and ID number, so only the roles that may see
# reporters' identities run it: those who register reports and those who handle cases.
REPEAT_CHECK_ROLES = tuple(HANDLING_ROLES)


def _office_of(request: Request) -> Office:
    office = getattr(request.user, "office", None)
    if office is None:
        raise PermissionDenied(_("Your account belongs to no office; ask an administrator."))
    return office


def _office_for_roles(request: Request, roles: tuple[str, ...], refusal: str) -> Office:
    """The caller's office, if the caller holds one of `roles`."""
    office = _office_of(request)
    if not request.user.has_role(*roles):  # type: ignore[union-attr]
        raise PermissionDenied(refusal)
    return office


def _report_input(request: Request, roles: tuple[str, ...], refusal: str) -> tuple[Office, RegistrationInput]:
    """The caller's office and the report in the request (registration's JSON), for the given roles."""
    office = _office_for_roles(request, roles, refusal)
    ser = s.RegistrationSerializer(data=request.data)
    ser.is_valid(raise_exception=True)
    return office, ser.to_input()


def _detail(request: Request, number: str) -> dict[str, Any]:
    case = case_get_for_user(user=request.user, number=number)  # type: ignore[arg-type]
    case = case_detail_prefetch(type(case).objects.filter(pk=case.pk)).select_related("reporter").get()
    return dict(s.CaseDetailSerializer(case, context={"request": request}).data)


class CaseListCreateApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        parameters=[s.CaseFilterSerializer],
        responses=s.CaseListSerializer(many=True),
        summary="List and filter the cases your office can see",
    )
    def get(self, request: Request) -> Response:
        office = _office_of(request)
        params = s.CaseFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        f = dict(params.validated_data)
        holding = None
        if f.get("office"):
            holding = Office.objects.filter(code=f["office"]).first()
            if holding is None or not office_is_in_subtree(holding, office):
                raise ValidationFailed({"office": [_("Choose your own office or one below it.")]})
        filters = CaseFilters(
            status=list(f.get("status") or []),
            channel=list(f.get("channel") or []),
            item_type=list(f.get("item_type") or []),
            source=list(f.get("source") or []),
            category=f.get("category"),
            region=f.get("region"),
            holding_office=holding,
            deadline=f.get("deadline"),
            received_from=f.get("received_from"),
            received_to=f.get("received_to"),
            q=f.get("q"),
            is_repeat=f.get("is_repeat"),
            is_real_name=f.get("is_real_name"),
            ordering=f.get("ordering") or "-received_at",
        )
        qs = case_list(office=office, filters=filters)
        from qingfeng.core.api import Pagination

        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.CaseListSerializer(page, many=True).data)

    @extend_schema(
        request=s.RegistrationSerializer, responses={201: s.CaseCreatedSerializer}, summary="Register a report"
    )
    def post(self, request: Request) -> Response:
        office, data = _report_input(
            request, REGISTER_ROLES, _("Only intake clerks and petition office heads register reports.")
        )
        case = case_register(data=data, office=office, actor=request.user)  # type: ignore[arg-type]
        # No embedding here (registration throughput): the vector is used if this process has it
        # cached (a repeat check just before, or the eager embedding task after commit).
        found = repeat_check(data=data, viewer_office=office, exclude_case_id=case.pk, embed=False)
        body = s.case_created_data(case, [candidate_payload(c) for c in found])
        return Response(body, status=status.HTTP_201_CREATED)


class CaseBatchCreateApi(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=s.RegistrationBatchSerializer,
        responses={201: s.CaseBatchCreatedSerializer},
        summary="Register several reports at once (all or none)",
        description=(
            "Each item of `reports` is the JSON of `POST /api/v1/cases/`, without files. Every report is "
            "validated first; if any is not valid, none is registered and the errors name `reports[i].field`. "
            "Numbers follow the order of the list. The answer lists the new cases; their repeat candidates "
            "come from `POST /api/v1/repeat-check/` or the case page."
        ),
    )
    def post(self, request: Request) -> Response:
        office = _office_for_roles(
            request, REGISTER_ROLES, _("Only intake clerks and petition office heads register reports.")
        )
        outer = s.RegistrationBatchSerializer(data=request.data)
        outer.is_valid(raise_exception=True)
        reports = outer.validated_data["reports"]
        limit = settings.REGISTRATION_BATCH_MAX
        if len(reports) > limit:
            raise TooLarge(
                _("At most %(limit)d reports per batch; this one has %(n)d. Split it.")
                % {"limit": limit, "n": len(reports)}
            )
        items: list[RegistrationInput] = []
        # Shape errors (400) as single registration gives them, named reports[i].field.
        errors: dict[str, Any] = {}
        for i, raw in enumerate(reports):
            if raw.get("attachments"):
                errors[f"reports[{i}]"] = {"attachments": [_("Files go with single registration, not in a batch.")]}
                continue
            ser = s.RegistrationSerializer(data=raw)
            if ser.is_valid():
                items.append(ser.to_input())
            else:
                errors[f"reports[{i}]"] = ser.errors
        if errors:
            raise DRFValidationError(errors)
        cases = case_register_many(items=items, office=office, actor=request.user)  # type: ignore[arg-type]
        body = {
            "count": len(cases),
            "cases": [
                {"number": c.number, "status": c.status, "title": c.title, "url": f"/api/v1/cases/{c.number}/"}
                for c in cases
            ],
        }
        return Response(s.CaseBatchCreatedSerializer(body).data, status=status.HTTP_201_CREATED)


class RepeatCheckApi(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=s.RegistrationSerializer,
        responses={200: s.RepeatCheckSerializer},
        summary="Find earlier cases about the same matter as a report, without registering it",
        description=(
            "Takes the same JSON as registration and returns the earlier cases your office can see, "
            "ranked, with the reasons they matched and how each ended. Another office's case found "
            "through the reporter's own phone or ID number is given by number and holding office only."
        ),
    )
    def post(self, request: Request) -> Response:
        office, data = _report_input(
            request, REPEAT_CHECK_ROLES, _("Only staff who register or handle reports can check for repeats.")
        )
        found = repeat_check(data=data, viewer_office=office)
        audit_identity_probe(actor=request.user, data=data, found=found, channel="api")
        return Response({"candidates": s.repeat_candidates_data([candidate_payload(c) for c in found])})


class CaseDetailApi(APIView):
    @extend_schema(responses=s.CaseDetailSerializer, summary="A case with its timeline, deadlines and allowed actions")
    def get(self, request: Request, number: str) -> Response:
        return Response(_detail(request, number))


class AttachmentDownloadApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes}, summary="Download an attachment")
    def get(self, request: Request, number: str, attachment_id: int) -> FileResponse:
        case = case_get_for_user(user=request.user, number=number)  # type: ignore[arg-type]
        att = Attachment.objects.filter(case=case, pk=attachment_id).first()
        if att is None:
            raise NotFound(_("No such attachment on this case."))
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action="attachment_download",
            object_type="attachment",
            object_id=att.pk,
            office=getattr(request.user, "office_id", None),
            detail={"channel": "api", "sha256": att.sha256},
            case_number=case.number,
        )
        return FileResponse(
            att.file.open("rb"), as_attachment=True, filename=att.original_name, content_type=att.content_type
        )


def action_view(action: str) -> type[APIView]:
    """One endpoint per workflow action, each with its own input schema."""
    serializer_class = s.ACTION_SERIALIZERS[action]
    label = Action(action).label

    class ActionApi(APIView):
        @extend_schema(
            request=serializer_class,
            responses={200: s.CaseDetailSerializer},
            summary=f"Workflow action: {label}",
            operation_id=f"cases_{action}",
            parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH)],
        )
        def post(self, request: Request, number: str) -> Response:
            ser = serializer_class(data=request.data)
            ser.is_valid(raise_exception=True)
            params = dict(ser.validated_data)
            reason = params.pop("reason", "")
            case_transition(case_number=number, action=action, actor=request.user, reason=reason, params=params)  # type: ignore[arg-type]
            return Response(_detail(request, number))

    ActionApi.__name__ = f"Case{''.join(p.title() for p in action.split('_'))}Api"
    return ActionApi

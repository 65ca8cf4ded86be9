"""Writes for reporter protection: the audit log, identity access requests and their decisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qingfeng.accounts.models import Role, User
from qingfeng.cases.models import Case
from qingfeng.cases.services import event_record
from qingfeng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qingfeng.notifications.models import Notification
from qingfeng.notifications.services import notification_create
from qingfeng.offices.models import Office
from qingfeng.protection import audit
from qingfeng.protection.models import AuditEntry, EventAction, IdentityAccessRequest
from qingfeng.protection.selectors import can_request_identity

GRANT_DAYS_DEFAULT = 7


def audit_record(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str | int,
    office: Office | int | None,
    detail: dict[str, Any] | None = None,
    case_number: str = "",
    last: bool = False,
) -> AuditEntry:
    """Append one entry to the audit log. Callable from any app (exports, reports, views).

    `last`: inside a `hot_rows_last()` transaction, chain it as the last write (see audit.append).
    """
    return audit.append(**_fields(actor, action, object_type, object_id, office, detail, case_number), last=last)


def _fields(
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str | int,
    office: Office | int | None,
    detail: dict[str, Any] | None,
    case_number: str,
) -> dict[str, Any]:
    office_id = office.pk if isinstance(office, Office) else office
    if office_id is None and actor is not None:
        office_id = getattr(actor, "office_id", None)
    if not case_number and object_type == "case":
        case_number = str(object_id)
    return {
        "actor_id": actor.pk if actor is not None else None,
        "actor_name": actor.get_username() if actor is not None else "",
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "case_number": case_number,
        "office_id": office_id,
        "detail": detail or {},
    }


def audit_identity_view(*, actor: User, case: Case, channel: str) -> AuditEntry:
    return audit_record(
        actor=actor,
        action="identity_view",
        object_type="case",
        object_id=case.number,
        office=getattr(actor, "office_id", None),
        detail={"channel": channel},
    )


def audit_registration(cases: Sequence[Case]) -> None:
    """Registration hook (intake.services.REGISTRATION_HOOKS): record that an identity was stored."""
    for case in cases:
        reporter = getattr(case, "reporter", None)
        if reporter is None or (reporter.is_anonymous and not reporter.phone):
            continue
        audit_record(
            actor=case.created_by,
            action="identity_register",
            object_type="case",
            object_id=case.number,
            office=case.received_office_id,
            detail={"real_name": not reporter.is_anonymous, "channel": case.channel},
            last=True,
        )


def _grant_days() -> int:
    return int(getattr(settings, "QINGFENG_IDENTITY_GRANT_DAYS", GRANT_DAYS_DEFAULT))


@transaction.atomic
def identity_request_create(*, case: Case, requester: User, reason: str) -> IdentityAccessRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": [_("State why you need the reporter's identity.")]})
    if not can_request_identity(requester, case):
        raise PermissionDenied(_("You cannot request the identity for this case."))
    if IdentityAccessRequest.objects.filter(
        case=case, requester=requester, status=IdentityAccessRequest.Status.PENDING
    ).exists():
        raise Conflict(_("You already have a pending request for this case."))
    assert requester.office is not None
    req = IdentityAccessRequest.objects.create(case=case, requester=requester, office=requester.office, reason=reason)
    event_record(
        case=case,
        action=EventAction.IDENTITY_REQUEST,
        from_status=case.status,
        to_status=case.status,
        actor=requester,
        office=requester.office,
        reason=reason,
        target_office=case.holding_office,
        data={"request": req.pk},
    )
    # Addressed to the holding office's leaders (the office inbox; no identity in the message).
    leaders = User.objects.filter(office=case.holding_office, roles__role=Role.LEADER, is_active=True).distinct()
    for leader in leaders:
        notification_create(
            office_id=case.holding_office_id,
            user_id=leader.pk,
            case_id=case.pk,
            kind=Notification.Kind.EVENT,
            message=_("%(user)s asks to see the reporter's identity on case %(number)s.")
            % {"user": requester, "number": case.number},
        )
    audit_record(
        actor=requester,
        action="identity_request",
        object_type="case",
        object_id=case.number,
        office=requester.office,
        detail={"request": req.pk, "reason": reason},
    )
    return req


@transaction.atomic
def identity_request_decide(
    *, request_id: int, leader: User, approve: bool, reason: str = "", days: int | None = None
) -> IdentityAccessRequest:
    req = (
        IdentityAccessRequest.objects.select_for_update()
        .select_related("case", "requester", "office")
        .filter(pk=request_id)
        .first()
    )
    if req is None:
        raise NotFound(_("No such request."))
    case = req.case
    if not leader.has_role(Role.LEADER) or leader.office_id != case.holding_office_id:
        raise PermissionDenied(_("Only a leader of the office holding the case decides identity requests."))
    if req.status != IdentityAccessRequest.Status.PENDING:
        raise Conflict(_("This request has already been decided."))
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationFailed({"reason": [_("Give a reason for rejecting the request.")]})
    now = timezone.now()
    req.status = IdentityAccessRequest.Status.APPROVED if approve else IdentityAccessRequest.Status.REJECTED
    req.decided_by = leader
    req.decided_at = now
    req.decision_reason = reason
    req.expires_at = now + timedelta(days=days or _grant_days()) if approve else None
    req.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "expires_at"])
    action = EventAction.IDENTITY_REQUEST_APPROVED if approve else EventAction.IDENTITY_REQUEST_REJECTED
    assert leader.office is not None
    event_record(
        case=case,
        action=action,
        from_status=case.status,
        to_status=case.status,
        actor=leader,
        office=leader.office,
        reason=reason,
        target_office=req.office,
        data={"request": req.pk, "expires_at": req.expires_at.isoformat() if req.expires_at else None},
    )
    if approve:
        message = _("Your request to see the reporter's identity on case %(number)s was approved until %(until)s.") % {
            "number": case.number,
            "until": timezone.localtime(req.expires_at).strftime("%Y-%m-%d %H:%M") if req.expires_at else "",
        }
    else:
        message = _("Your request to see the reporter's identity on case %(number)s was rejected: %(reason)s") % {
            "number": case.number,
            "reason": reason,
        }
    notification_create(
        office_id=req.office_id,
        user_id=req.requester_id,
        case_id=case.pk,
        kind=Notification.Kind.EVENT,
        message=message,
    )
    audit_record(
        actor=leader,
        action=str(action),
        object_type="case",
        object_id=case.number,
        office=leader.office,
        detail={
            "request": req.pk,
            "requester": req.requester_id,
            "reason": reason,
            "expires_at": req.expires_at.isoformat() if req.expires_at else None,
        },
    )
    return req

"""Reads for reporter protection. `can_see_identity` is THE need-to-know rule, used by the API and the web."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from qingfeng.accounts.models import Role, User
from qingfeng.cases.models import Case
from qingfeng.cases.selectors import case_can_view
from qingfeng.protection.models import AuditEntry, IdentityAccessRequest

# Roles that handle cases. Analysts, auditors and administrators never see identities.
HANDLING_ROLES = frozenset({Role.INTAKE_CLERK, Role.PETITION_HEAD, Role.HANDLER, Role.DEPARTMENT_HEAD, Role.LEADER})
# Roles that must use two-factor login (they can see identities).
IDENTITY_ROLES = HANDLING_ROLES


def active_grant(user: User, case: Case) -> IdentityAccessRequest | None:
    return (
        IdentityAccessRequest.objects.filter(
            case=case,
            requester=user,
            status=IdentityAccessRequest.Status.APPROVED,
            expires_at__gt=timezone.now(),
        )
        .order_by("-expires_at")
        .first()
    )


def can_see_identity(user: User, case: Case) -> bool:
    """Need-to-know: the holding office's handling roles, or a handling-role user with an unexpired grant.

    A grant never reaches past the office's view of the case: a case hidden from the office
    (sent up because it concerns its own leaders) stays hidden, grant or not.
    """
    if not getattr(user, "is_authenticated", False) or not user.has_role(*HANDLING_ROLES):
        return False
    if user.office_id is not None and user.office_id == case.holding_office_id:
        return True
    if user.office is None or not case_can_view(office=user.office, case=case):
        return False
    return active_grant(user, case) is not None


def can_request_identity(user: User, case: Case) -> bool:
    """Who may ask: a handling-role user whose office sees the case but who cannot see the identity."""
    reporter = getattr(case, "reporter", None)
    if reporter is None or reporter.is_anonymous:
        return False
    if not user.has_role(*HANDLING_ROLES) or user.office is None:
        return False
    return case_can_view(office=user.office, case=case) and not can_see_identity(user, case)


def pending_request(user: User, case: Case) -> IdentityAccessRequest | None:
    return IdentityAccessRequest.objects.filter(
        case=case, requester=user, status=IdentityAccessRequest.Status.PENDING
    ).first()


def requests_for_leader(user: User) -> QuerySet[IdentityAccessRequest]:
    """Pending requests on cases held by the leader's office."""
    if not user.has_role(Role.LEADER) or user.office_id is None:
        return IdentityAccessRequest.objects.none()
    return (
        IdentityAccessRequest.objects.filter(
            status=IdentityAccessRequest.Status.PENDING, case__holding_office_id=user.office_id
        )
        .select_related("case", "requester", "office")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    case_number: str = ""
    date_from: date | None = None
    date_to: date | None = None


def audit_search(f: AuditFilters) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.all().order_by("-sequence")
    if f.actor:
        cond = Q(actor_name__icontains=f.actor)
        if f.actor.isdigit():
            cond |= Q(actor_id=int(f.actor))
        qs = qs.filter(cond)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.case_number:
        qs = qs.filter(case_number=f.case_number.strip())
    if f.date_from:
        qs = qs.filter(created_at__date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(created_at__date__lte=f.date_to)
    return qs

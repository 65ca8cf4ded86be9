"""Who may supervise and chase, in one place.

An office may supervise or chase a case when it can see the case (a CaseAccess row that is
not hidden: it registered the case or received it and sent it on) and it is a strict ancestor
of the office that holds the case now. That covers both "the office that sent it down" and
"any upper office on the way that saw it"; the holding office itself, a sibling, or a lower
office that sent a case up may not. Within such an office, only the roles below may act.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from qingfeng.accounts.models import Role, User
from qingfeng.cases.models import Case
from qingfeng.cases.selectors import case_can_view
from qingfeng.cases.workflow import CLOSED_STATES
from qingfeng.core.errors import Conflict, NotFound, PermissionDenied
from qingfeng.offices.models import Office
from qingfeng.offices.selectors import office_is_in_subtree

# Roles that may mark for supervision, close a mark and chase.
SUPERVISE_ROLES: frozenset[str] = frozenset({Role.PETITION_HEAD, Role.DEPARTMENT_HEAD, Role.LEADER})
# Roles of the chased office that may acknowledge a chase.
ACKNOWLEDGE_ROLES: frozenset[str] = frozenset(
    {Role.INTAKE_CLERK, Role.PETITION_HEAD, Role.HANDLER, Role.DEPARTMENT_HEAD, Role.LEADER}
)


def office_is_above(office: Office, holder: Office) -> bool:
    """True when `office` is a strict ancestor of `holder`."""
    return office.pk != holder.pk and office_is_in_subtree(holder, office)


def supervision_check(*, user: User, case: Case, visible: bool | None = None) -> None:
    """Raise unless the user may supervise or chase the case now.

    Checks, in the order case_transition uses: visibility (404), office (403), state (409),
    role (403). Pass `visible` when the caller already knows the answer.
    """
    office = user.office
    if office is None:
        raise PermissionDenied(_("Your account belongs to no office; ask an administrator."))
    if visible is None:
        visible = case_can_view(office=office, case=case)
    if not visible:
        raise NotFound(_("No case %(number)s is visible to your office.") % {"number": case.number})
    holder = case.holding_office
    if not office_is_above(office, holder):
        raise PermissionDenied(
            _("Only an upper office of %(holder)s can supervise or chase case %(number)s.")
            % {"holder": holder.name, "number": case.number}
        )
    if case.status in CLOSED_STATES:
        raise Conflict(
            _("Case %(number)s is finished; it can no longer be supervised or chased.") % {"number": case.number},
            extra={"status": case.status},
        )
    if not user.has_role(*SUPERVISE_ROLES):
        raise PermissionDenied(
            _("Only petition office heads, department heads and leaders supervise and chase cases."),
            extra={"required_roles": sorted(SUPERVISE_ROLES)},
        )


def can_supervise(*, user: User, case: Case, visible: bool = True) -> bool:
    """What the pages offer: the same rule as supervision_check, as a yes or no."""
    try:
        supervision_check(user=user, case=case, visible=visible)
    except (NotFound, PermissionDenied, Conflict):
        return False
    return True


def can_acknowledge(*, user: User, office_id: int) -> bool:
    """A chase is acknowledged by the chased office's working staff."""
    return user.office_id == office_id and user.has_role(*ACKNOWLEDGE_ROLES)

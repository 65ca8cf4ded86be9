"""Who may see statistics, define topics and decide on warnings: users of an office, for its subtree."""

from __future__ import annotations

from django.utils.translation import gettext as _

from qingfeng.accounts.models import Role, User
from qingfeng.core.errors import PermissionDenied, ValidationFailed
from qingfeng.offices.models import Office
from qingfeng.offices.selectors import office_is_in_subtree

STATS_ROLES = (Role.ANALYST, Role.LEADER, Role.PETITION_HEAD, Role.DEPARTMENT_HEAD)
TOPIC_ROLES = (Role.ANALYST, Role.LEADER)
WARNING_ROLES = (Role.ANALYST, Role.LEADER)


def can_view_statistics(user: User) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.office_id and user.has_role(*STATS_ROLES))


def require(user: User, roles: tuple[str, ...], message: str) -> Office:
    office = getattr(user, "office", None)
    if office is None or not user.has_role(*roles):
        raise PermissionDenied(message)
    return office


def statistics_office(user: User, code: str | None) -> Office:
    """The office whose subtree the user asks about: their own, or one below it."""
    own = require(
        user, STATS_ROLES, _("Statistics are for analysts, leaders, petition office heads and department heads.")
    )
    code = (code or "").strip()
    if not code or code == own.code:
        return own
    office = Office.objects.filter(code=code).first()
    if office is None:
        raise ValidationFailed({"office": [_("No office has the code %(code)s.") % {"code": code}]})
    if not office_is_in_subtree(office, own):
        raise PermissionDenied(
            _("Office %(code)s is outside your office's subtree: you may only see statistics of %(own)s and below.")
            % {"code": code, "own": own.name},
            extra={"office": code},
        )
    return office

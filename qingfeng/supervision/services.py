"""Writes for supervision: mark, close a mark, chase, acknowledge a chase.

Each runs in one transaction, locks the case row (so a concurrent transfer cannot move the
case between the check and the write), writes a CaseEvent (who, when, why) and notifies the
office concerned.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qingfeng.accounts.models import User
from qingfeng.cases.models import Case
from qingfeng.cases.selectors import case_can_view
from qingfeng.cases.services import event_record
from qingfeng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qingfeng.notifications.models import Notification
from qingfeng.notifications.services import notification_create
from qingfeng.offices.models import Office
from qingfeng.supervision.models import Chase, EventAction, SupervisionForm, SupervisionMark
from qingfeng.supervision.permissions import SUPERVISE_ROLES, can_acknowledge, supervision_check

NOTE_MAX = 2000


def _locked_case(number: str, actor: User) -> Case:
    case = Case.objects.select_for_update(of=("self",)).select_related("holding_office").filter(number=number).first()
    if case is None or not case_can_view(office=actor.office, case=case):
        raise NotFound(_("No case %(number)s is visible to your office.") % {"number": number})
    return case


def _text(value: str | None, name: str, missing: str, errors: dict[str, list[str]]) -> str:
    text = (value or "").strip()
    if not text:
        errors.setdefault(name, []).append(missing)
    elif len(text) > NOTE_MAX:
        errors.setdefault(name, []).append(_("At most %(n)d characters.") % {"n": NOTE_MAX})
    return text


def _record_and_notify(
    *,
    case: Case,
    action: str,
    actor: User,
    notify_office: Office,
    reason: str,
    data: dict[str, Any],
    at: datetime,
    kind: str,
    message: str,
) -> None:
    """A supervision step leaves no trace in the case state: its event and the other office's
    notification are the whole record, so they are always written together."""
    assert actor.office is not None
    event_record(
        case=case,
        action=action,
        from_status=case.status,
        to_status=case.status,
        actor=actor,
        office=actor.office,
        target_office=notify_office,
        reason=reason,
        data=data,
        at=at,
    )
    notification_create(office_id=notify_office.pk, case_id=case.pk, kind=kind, message=message)


def mark_create(
    *, case_number: str, actor: User, note: str, target_date: date | None, form: str, now: datetime | None = None
) -> SupervisionMark:
    """Mark a case for supervision (督办) by the actor's office."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(case_number, actor)
        supervision_check(user=actor, case=case, visible=True)
        errors: dict[str, list[str]] = {}
        note = _text(note, "note", _("Say what the lower office must do."), errors)
        if form not in SupervisionForm.values:
            errors.setdefault("form", []).append(
                _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(SupervisionForm.values)}
            )
        if target_date is None:
            errors.setdefault("target_date", []).append(_("Set a target date."))
        elif target_date <= timezone.localdate(now):
            errors.setdefault("target_date", []).append(_("The target date must be in the future."))
        if errors:
            raise ValidationFailed(errors)
        assert actor.office is not None and target_date is not None
        if SupervisionMark.objects.filter(case=case, office=actor.office, closed_at__isnull=True).exists():
            raise Conflict(
                _("Your office already supervises case %(number)s; close that mark first or chase instead.")
                % {"number": case.number}
            )
        holder = case.holding_office
        mark = SupervisionMark.objects.create(
            case=case,
            office=actor.office,
            target_office=holder,
            form=form,
            note=note,
            target_date=target_date,
            created_by=actor,
            created_at=now,
        )
        _record_and_notify(
            case=case,
            action=EventAction.SUPERVISE,
            actor=actor,
            notify_office=holder,
            reason=note,
            data={"mark": mark.pk, "form": form, "target_date": target_date.isoformat()},
            at=now,
            kind=Notification.Kind.SUPERVISION,
            message=_("%(office)s supervises case %(number)s (%(form)s, by %(date)s): %(note)s")
            % {
                "office": actor.office.name,
                "number": case.number,
                "form": SupervisionForm(form).label,
                "date": target_date.isoformat(),
                "note": note,
            },
        )
    return mark


def mark_close(*, mark_id: int, actor: User, reason: str, now: datetime | None = None) -> SupervisionMark:
    """Close a supervision mark. Only the supervising office's supervising roles may."""
    now = now or timezone.now()
    with transaction.atomic():
        mark = SupervisionMark.objects.select_related("office").filter(pk=mark_id).first()
        if mark is None:
            raise NotFound(_("No such supervision mark."))
        case = _locked_case(Case.objects.values_list("number", flat=True).get(pk=mark.case_id), actor)
        if actor.office_id != mark.office_id:
            raise PermissionDenied(
                _("Only %(office)s, which set this supervision, can close it.") % {"office": mark.office.name}
            )
        if not actor.has_role(*SUPERVISE_ROLES):
            raise PermissionDenied(
                _("Only petition office heads, department heads and leaders supervise and chase cases."),
                extra={"required_roles": sorted(SUPERVISE_ROLES)},
            )
        errors: dict[str, list[str]] = {}
        reason = _text(reason, "reason", _("Say why the supervision ends."), errors)
        if errors:
            raise ValidationFailed(errors)
        changed = SupervisionMark.objects.filter(pk=mark.pk, closed_at__isnull=True).update(
            closed_at=now, closed_by=actor, close_reason=reason
        )
        if changed != 1:
            raise Conflict(_("This supervision is already closed."))
        mark.refresh_from_db()
        assert actor.office is not None
        holder = case.holding_office
        _record_and_notify(
            case=case,
            action=EventAction.CLOSE_SUPERVISION,
            actor=actor,
            notify_office=holder,
            reason=reason,
            data={"mark": mark.pk},
            at=now,
            kind=Notification.Kind.EVENT,
            message=_("%(office)s closed its supervision of case %(number)s: %(reason)s")
            % {"office": actor.office.name, "number": case.number, "reason": reason},
        )
    return mark


def chase_create(*, case_number: str, actor: User, message: str, now: datetime | None = None) -> Chase:
    """Chase (催办) the holding office: it sees the message at once on its pages."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(case_number, actor)
        supervision_check(user=actor, case=case, visible=True)
        errors: dict[str, list[str]] = {}
        message = _text(message, "message", _("Write the reminder for the holding office."), errors)
        if errors:
            raise ValidationFailed(errors)
        assert actor.office is not None
        holder = case.holding_office
        chase = Chase.objects.create(
            case=case, office=actor.office, target_office=holder, message=message, created_by=actor, created_at=now
        )
        _record_and_notify(
            case=case,
            action=EventAction.CHASE,
            actor=actor,
            notify_office=holder,
            reason=message,
            data={"chase": chase.pk},
            at=now,
            kind=Notification.Kind.CHASE,
            message=_("%(office)s chases case %(number)s: %(message)s")
            % {"office": actor.office.name, "number": case.number, "message": message},
        )
    return chase


def chase_acknowledge(*, chase_id: int, actor: User, reply: str = "", now: datetime | None = None) -> Chase:
    """The chased office says it has seen the chase, optionally with a short reply."""
    now = now or timezone.now()
    with transaction.atomic():
        chase = Chase.objects.select_related("office", "case").filter(pk=chase_id).first()
        if chase is None or not case_can_view(office=actor.office, case=chase.case):
            raise NotFound(_("No such chase."))
        if not can_acknowledge(user=actor, office_id=chase.target_office_id):
            raise PermissionDenied(_("Only the staff of the chased office can acknowledge a chase."))
        reply = (reply or "").strip()
        if len(reply) > NOTE_MAX:
            raise ValidationFailed({"reply": [_("At most %(n)d characters.") % {"n": NOTE_MAX}]})
        # Conditional update: two clerks clicking at once acknowledge it once.
        unseen = Chase.objects.filter(pk=chase.pk, seen_at__isnull=True)
        changed = unseen.update(seen_at=now, seen_by=actor, reply=reply)
        if changed != 1:
            raise Conflict(_("This chase has already been acknowledged."))
        chase.refresh_from_db()
        case = chase.case
        assert actor.office is not None
        text = _("%(office)s has seen your chase of case %(number)s.") % {
            "office": actor.office.name,
            "number": case.number,
        }
        _record_and_notify(
            case=case,
            action=EventAction.CHASE_SEEN,
            actor=actor,
            notify_office=chase.office,
            reason=reply,
            data={"chase": chase.pk},
            at=now,
            kind=Notification.Kind.EVENT,
            message=f"{text} {reply}" if reply else text,
        )
    return chase

"""Writes to cases. `case_transition` is the one place that checks and applies the workflow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qingfeng.accounts.models import User
from qingfeng.cases.choices import (
    DisposalWay,
    InquiryOutcome,
    ItemType,
    NotAcceptedReason,
    Source,
    Status,
    Substantiation,
)
from qingfeng.cases.models import Case, CaseAccess, CaseEvent, CaseNumberSequence
from qingfeng.cases.selectors import case_can_view
from qingfeng.cases.workflow import MOVING_ACTIONS, TRANSITIONS, Action, Transition, target_state
from qingfeng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qingfeng.deadlines import rules
from qingfeng.deadlines.services import case_refresh_next_deadline, case_start_deadline
from qingfeng.notifications.models import Notification
from qingfeng.notifications.services import notification_create
from qingfeng.offices.models import Office
from qingfeng.offices.selectors import office_is_in_subtree

# Hooks other apps register to run inside the transition's transaction (analytics counts,
# supervision feeds …). Each receives the case and the event just written.
EVENT_HOOKS: list[Callable[[Case, CaseEvent], None]] = []


def case_next_number(*, office: Office, year: int) -> str:
    """Next case number for an office and year. Must run inside the registering transaction.

    One upsert creates or bumps the sequence row and leaves it locked until commit, so
    concurrent registrations queue on it and a rolled-back registration gives its number
    back: no gaps, no clashes.
    """
    return case_next_numbers(office=office, year=year, count=1)[0]


def case_next_numbers(*, office: Office, year: int, count: int) -> list[str]:
    """The next `count` case numbers for an office and year, consecutive, with one upsert (see
    `case_next_number`: the row stays locked until commit)."""
    table = connection.ops.quote_name(CaseNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (office_id, year, last_value) VALUES (%s, %s, %s) "
            f"ON CONFLICT (office_id, year) DO UPDATE SET last_value = {table}.last_value + %s "
            "RETURNING last_value",
            [office.pk, year, count, count],
        )
        (last,) = cursor.fetchone()
    return [f"{office.code}-{year}-{value:06d}" for value in range(last - count + 1, last + 1)]


def case_grant_access(*, case: Case, office: Office) -> None:
    case_grant_access_many(cases=[case], office=office)


def case_grant_access_many(*, cases: Sequence[Case], office: Office) -> None:
    CaseAccess.objects.bulk_create(
        [CaseAccess(case=case, office=office, received_at=case.received_at) for case in cases], ignore_conflicts=True
    )


def event_record(
    *,
    case: Case,
    action: str,
    from_status: str,
    to_status: str,
    actor: User | None,
    office: Office,
    reason: str = "",
    target_office: Office | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        office=office,
        target_office=target_office,
        reason=reason,
        data=data or {},
        created_at=at or timezone.now(),
    )
    for hook in EVENT_HOOKS:
        hook(case, event)
    return event


def event_record_many(
    *,
    cases: Sequence[Case],
    action: str,
    from_status: str,
    actor: User | None,
    office: Office,
    data: Sequence[dict[str, Any]],
    at: datetime,
) -> list[CaseEvent]:
    """The same action on several cases (bulk registration): one insert, then the hooks per event.
    Each event's to-state is its case's status."""
    events = CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=case,
                action=action,
                from_status=from_status,
                to_status=case.status,
                actor=actor,
                office=office,
                data=d,
                created_at=at,
            )
            for case, d in zip(cases, data, strict=True)
        ]
    )
    bulk = Bulk(cases=tuple(cases))
    token = _bulk.set(bulk)
    try:
        for k, (case, event) in enumerate(zip(cases, events, strict=True)):
            bulk.later = frozenset(c.pk for c in cases[k + 1 :])
            for hook in EVENT_HOOKS:
                hook(case, event)
    finally:
        _bulk.reset(token)
    return events


@dataclass
class Bulk:
    """What event hooks may know while `event_record_many` runs them case after case.

    `later`: the cases written with this one that come after it. One-by-one registration would
    not have written their rows yet, so a hook that reads other cases' rows (the person counts
    read the reporter's other reports) leaves them out, to count exactly the same.
    `scratch`: a hook's reads shared across the cases of one bulk write (office chains …).
    """

    cases: tuple[Case, ...]
    later: frozenset[int] = frozenset()
    scratch: dict[str, Any] = field(default_factory=dict)


_bulk: ContextVar[Bulk | None] = ContextVar("bulk_events", default=None)


def current_bulk() -> Bulk | None:
    """The bulk write whose event hooks are running, if any."""
    return _bulk.get()


# --- parameter checks --------------------------------------------------------------------


def _require(params: dict[str, Any], name: str, errors: dict[str, list[str]], message: str) -> Any:
    value = params.get(name)
    if value in (None, "", []):
        errors.setdefault(name, []).append(message)
    return value


def _choice(
    params: dict[str, Any], name: str, choices: Any, errors: dict[str, list[str]], required: bool = True
) -> Any:
    value = params.get(name)
    if value in (None, ""):
        if required:
            errors.setdefault(name, []).append(_("This field is required."))
        return None
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        errors.setdefault(name, []).append(
            _("“%(value)s” is not one of: %(allowed)s.") % {"value": value, "allowed": allowed}
        )
        return None
    return value


def _office_param(params: dict[str, Any], errors: dict[str, list[str]]) -> Office | None:
    code = _require(params, "target_office", errors, _("Choose the office that receives the case."))
    if not code:
        return None
    office = Office.objects.filter(code=str(code)).first()
    if office is None:
        errors.setdefault("target_office", []).append(_("No office has the code %(code)s.") % {"code": code})
    return office


def _date_param(params: dict[str, Any], name: str, errors: dict[str, list[str]]) -> date | None:
    value = params.get(name)
    if isinstance(value, date):
        return value
    if not value:
        errors.setdefault(name, []).append(_("This field is required."))
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a date as YYYY-MM-DD."))
        return None


# --- effects: one function per action, run after the table check -----------------------

Effect = Callable[[Case, User, dict[str, Any], datetime, dict[str, Any]], None]


def _screen(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    item_type = _choice(p, "item_type", ItemType, errors, required=False)
    if errors:
        raise ValidationFailed(errors)
    if item_type:
        out["item_type"] = {"from": case.item_type, "to": item_type}
        case.item_type = item_type


def _not_accept(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    why = _choice(p, "not_accepted_reason", NotAcceptedReason, errors)
    if errors:
        raise ValidationFailed(errors)
    case.not_accepted_reason = why
    out["not_accepted_reason"] = why


def _move(case: Case, target: Office, now: datetime) -> None:
    case.holding_office = target
    case.held_since = now
    case.handler = None
    case_grant_access(case=case, office=target)
    case.screening_due = None
    case.accept_due = None
    case_start_deadline(case, rules.ACCEPT, timezone.localdate(now))


def _send_up(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    parent = case.holding_office.parent
    if parent is None:
        raise Conflict(_("The national office has no higher office to send the case to."))
    sender = case.holding_office
    _move(case, parent, now)
    out["target_office"] = parent
    if p.get("concerns_own_leaders"):
        # The receiving commission's own leaders are accused: it loses sight of the case.
        CaseAccess.objects.filter(case=case, office=sender).update(hidden=True)
        out["concerns_own_leaders"] = True


def _transfer(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any], *, assign: bool) -> None:
    errors: dict[str, list[str]] = {}
    target = _office_param(p, errors)
    due = _date_param(p, "due_date", errors) if assign else None
    if target is not None and (
        target.pk == case.holding_office_id or not office_is_in_subtree(target, case.holding_office)
    ):
        errors.setdefault("target_office", []).append(_("The receiving office must be below your office."))
    if due is not None and due <= timezone.localdate(now):
        errors.setdefault("due_date", []).append(_("The due date must be in the future."))
    if errors:
        raise ValidationFailed(errors)
    assert target is not None
    sender = case.holding_office
    _move(case, target, now)
    case.source = Source.ASSIGNED if assign else Source.TRANSFERRED
    out["target_office"] = target
    if assign:
        assert due is not None
        case.assigned_by = sender
        case_start_deadline(case, rules.ASSIGNMENT, timezone.localdate(now), due=due)
        out["due_date"] = due.isoformat()


def _transfer_down(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    _transfer(case, actor, p, now, out, assign=False)


def _assign(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    _transfer(case, actor, p, now, out, assign=True)


def _mark_repeat(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    number = p.get("repeat_of")
    if not number:
        raise ValidationFailed({"repeat_of": [_("Give the number of the earlier case.")]})
    earlier = Case.objects.filter(number=str(number)).first()
    if earlier is None or not case_can_view(office=actor.office, case=earlier):
        raise ValidationFailed({"repeat_of": [_("No case %(number)s is visible to your office.") % {"number": number}]})
    if earlier.pk == case.pk:
        raise ValidationFailed({"repeat_of": [_("A case cannot repeat itself.")]})
    case.is_repeat = True
    case.repeat_of = earlier
    out["repeat_of"] = earlier.number
    if p.get("new_facts"):
        # A repeat with new facts or evidence reopens handling of the earlier matter.
        out["reopened"] = earlier.number
        reopen_reason = _("New facts in repeat report %(number)s: %(reason)s") % {
            "number": case.number,
            "reason": p.get("reason", ""),
        }
        transition = TRANSITIONS[Action.REOPEN]
        if earlier.status in transition.sources:
            _apply(
                earlier, transition, actor=None, office=earlier.holding_office, reason=reopen_reason, params={}, now=now
            )


def _accept(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    handler_id = p.get("handler")
    if handler_id:
        handler = User.objects.filter(pk=handler_id, office=case.holding_office).first()
        if handler is None:
            raise ValidationFailed({"handler": [_("The handler must be a user of the holding office.")]})
        case.handler = handler
        out["handler"] = handler.pk


def _notify_acceptance(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    if case.acceptance_notified_at is not None:
        raise Conflict(_("The reporter has already been told of the acceptance."))
    case.acceptance_notified_at = now


def _dispose(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    way = _choice(p, "way", DisposalWay, errors)
    if errors:
        raise ValidationFailed(errors)
    case.disposal_way = way
    case.disposed_at = now
    case.inquiry_outcome = ""
    case.study_opinion = p.get("study_opinion") or case.study_opinion
    out["way"] = way
    if way == DisposalWay.INQUIRY:
        today = timezone.localdate(now)
        case_start_deadline(case, rules.INQUIRY_ANSWER, today)
        case_start_deadline(case, rules.INQUIRY_REPORT, today)


def _record_inquiry_outcome(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    if case.disposal_way != DisposalWay.INQUIRY:
        raise Conflict(_("Only a case disposed of by talk or written inquiry has an inquiry outcome."))
    errors: dict[str, list[str]] = {}
    outcome = _choice(p, "outcome", InquiryOutcome, errors)
    if errors:
        raise ValidationFailed(errors)
    case.inquiry_outcome = outcome
    out["outcome"] = outcome


def _conclude(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    if case.disposal_way == DisposalWay.INQUIRY and not case.inquiry_outcome:
        raise Conflict(_("Record the inquiry outcome before concluding."))
    errors: dict[str, list[str]] = {}
    sub = _choice(p, "substantiation", Substantiation, errors)
    conclusion = _require(p, "conclusion", errors, _("Describe the conclusion."))
    losses = p.get("losses_recovered")
    if losses not in (None, ""):
        try:
            losses = Decimal(str(losses))
            if losses < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.setdefault("losses_recovered", []).append(_("Enter an amount in yuan, zero or more."))
    if errors:
        raise ValidationFailed(errors)
    case.substantiation = sub
    case.conclusion = conclusion
    case.sanctions = p.get("sanctions") or ""
    case.losses_recovered = losses if losses not in (None, "") else None
    case.name_cleared = bool(p.get("name_cleared"))
    case.concluded_at = now
    out.update(substantiation=sub, name_cleared=case.name_cleared)
    if case.is_real_name:
        case_start_deadline(case, rules.FEEDBACK, timezone.localdate(now))


def _feed_back(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    case.fed_back_at = now
    if p.get("objection"):
        out["objection"] = str(p["objection"])


def _record_return_visit(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    solved = p.get("problem_solved")
    if solved is None or solved == "":
        errors["problem_solved"] = [_("Say whether the reporter's problem was solved.")]
    satisfaction = p.get("satisfaction")
    try:
        satisfaction = int(satisfaction) if satisfaction not in (None, "") else None
    except (TypeError, ValueError):
        satisfaction = -1
    if satisfaction is None or not 1 <= satisfaction <= 5:
        errors["satisfaction"] = [_("Satisfaction is a number from 1 to 5.")]
    if errors:
        raise ValidationFailed(errors)
    case.problem_solved = solved in (True, "true", "True", "1", 1, "yes")
    case.satisfaction = satisfaction
    out.update(problem_solved=case.problem_solved, satisfaction=satisfaction)


def _reopen(case: Case, actor: User | None, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    case.reopened_count += 1
    case.disposal_way = ""
    case.inquiry_outcome = ""
    case.concluded_at = None
    case.fed_back_at = None
    case.archived_at = None
    case.feedback_due = None
    case.inquiry_answer_due = case.inquiry_report_due = None


def _archive(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    if case.status == Status.CONCLUDED and case.is_real_name:
        raise Conflict(_("A real-name reporter must be told the result before the case is archived."))
    case.archived_at = now


def _return(case: Case, actor: User, p: dict[str, Any], now: datetime, out: dict[str, Any]) -> None:
    case.handler = None


EFFECTS: dict[str, Effect] = {
    Action.SCREEN: _screen,
    Action.NOT_ACCEPT: _not_accept,
    Action.SEND_UP: _send_up,
    Action.TRANSFER_DOWN: _transfer_down,
    Action.ASSIGN: _assign,
    Action.MARK_REPEAT: _mark_repeat,
    Action.ACCEPT: _accept,
    Action.NOTIFY_ACCEPTANCE: _notify_acceptance,
    Action.RETURN: _return,
    Action.DISPOSE: _dispose,
    Action.RECORD_INQUIRY_OUTCOME: _record_inquiry_outcome,
    Action.CONCLUDE: _conclude,
    Action.FEED_BACK: _feed_back,
    Action.RECORD_RETURN_VISIT: _record_return_visit,
    Action.REOPEN: _reopen,  # type: ignore[dict-item]
    Action.ARCHIVE: _archive,
}
assert set(EFFECTS) == set(TRANSITIONS), "every transition needs an effect"

REASON_REQUIRED = frozenset(
    {
        Action.NOT_ACCEPT,
        Action.SEND_UP,
        Action.TRANSFER_DOWN,
        Action.ASSIGN,
        Action.RETURN,
        Action.REOPEN,
        Action.FEED_BACK,
    }
)


def allowed_actions(*, case: Case, user: User) -> list[str]:
    """Actions this user may take on this case now (what the case page offers)."""
    if user.office_id is None or user.office_id != case.holding_office_id:
        return []
    return [name for name, t in TRANSITIONS.items() if case.status in t.sources and user.has_role(*t.roles)]


def _apply(
    case: Case,
    transition: Transition,
    *,
    actor: User | None,
    office: Office,
    reason: str,
    params: dict[str, Any],
    now: datetime,
) -> CaseEvent:
    from_status = case.status
    out: dict[str, Any] = {}
    EFFECTS[transition.action](case, actor, params, now, out)  # type: ignore[arg-type]
    target_office = out.pop("target_office", None)
    case.status = target_state(transition, from_status, params)
    if case.status != from_status:
        case.status_changed_at = now
    if transition.action in MOVING_ACTIONS:
        case.held_since = now
    case_refresh_next_deadline(case)
    case.save()
    event = event_record(
        case=case,
        action=transition.action,
        from_status=from_status,
        to_status=case.status,
        actor=actor,
        office=office,
        target_office=target_office,
        reason=reason,
        data=out,
        at=now,
    )
    if target_office is not None:
        notification_create(
            office_id=target_office.pk,
            case_id=case.pk,
            kind=Notification.Kind.NEW_CASE,
            message=_("%(office)s sent you case %(number)s: %(title)s")
            % {"office": office.name, "number": case.number, "title": case.title},
        )
    return event


def case_transition(
    *,
    case_number: str,
    action: str,
    actor: User,
    reason: str = "",
    params: dict[str, Any] | None = None,
) -> Case:
    """Run one workflow action. Checks, in order: visibility (404), office (403), state (409), role (403).

    Nothing changes unless every check passes and the effect succeeds.
    """
    params = dict(params or {})
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise NotFound(_("There is no action called “%(action)s”.") % {"action": action})
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("holding_office")
            .filter(number=case_number)
            .first()
        )
        if case is None or not case_can_view(office=actor.office, case=case):
            raise NotFound(_("No case %(number)s is visible to your office.") % {"number": case_number})
        if actor.office_id != case.holding_office_id:
            raise PermissionDenied(
                _("Case %(number)s is held by %(office)s; only that office can act on it.")
                % {"number": case.number, "office": case.holding_office.name}
            )
        if case.status not in transition.sources:
            raise Conflict(
                _("“%(action)s” is not allowed while the case is “%(status)s”.")
                % {"action": Action(action).label, "status": Status(case.status).label},
                extra={"status": case.status, "action": action},
            )
        if not actor.has_role(*transition.roles):
            raise PermissionDenied(
                _("Your roles do not allow “%(action)s”.") % {"action": Action(action).label},
                extra={"required_roles": sorted(transition.roles)},
            )
        reason = (reason or "").strip()
        if action in REASON_REQUIRED and not reason:
            raise ValidationFailed({"reason": [_("Give a reason for this step.")]})
        params["reason"] = reason
        _apply(case, transition, actor=actor, office=actor.office, reason=reason, params=params, now=timezone.now())  # type: ignore[arg-type]
    return case

"""The case workflow: one transition table, checked in one place (cases.services.case_transition).

Each row says from which states an action may run, which state it leads to (None keeps
the state), and which roles may run it. Only the holding office acts on a case; offices
that merely keep read access (senders of transfers) supervise, they do not act.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from qingfeng.accounts.models import Role
from qingfeng.cases.choices import Status

S = Status
R = Role


class Action(models.TextChoices):
    REGISTER = "register", _("Register")
    SCREEN = "screen", _("Screen")
    NOT_ACCEPT = "not_accept", _("Not accept")
    SEND_UP = "send_up", _("Send up")
    TRANSFER_DOWN = "transfer_down", _("Transfer down")
    ASSIGN = "assign", _("Assign")
    MARK_REPEAT = "mark_repeat", _("Mark as repeat")
    ACCEPT = "accept", _("Accept")
    NOTIFY_ACCEPTANCE = "notify_acceptance", _("Tell reporter of acceptance")
    RETURN = "return", _("Return to petition office")
    DISPOSE = "dispose", _("Dispose")
    RECORD_INQUIRY_OUTCOME = "record_inquiry_outcome", _("Record inquiry outcome")
    CONCLUDE = "conclude", _("Conclude")
    FEED_BACK = "feed_back", _("Feed back")
    RECORD_RETURN_VISIT = "record_return_visit", _("Record return visit")
    REOPEN = "reopen", _("Reopen on new facts")
    ARCHIVE = "archive", _("Archive")
    # Not a transition: the event written when an old register is imported.
    IMPORT = "import", _("Import from an old register")


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change
    roles: frozenset[str]
    # (parameter, {value: state}): the target depends on a parameter, e.g. the disposal way.
    branch: tuple[str, dict[str, str]] | None = None


def _t(
    action: str,
    sources: Iterable[str],
    target: str | None,
    roles: Iterable[str],
    branch: tuple[str, dict[str, str]] | None = None,
) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles), branch)


_INTAKE: set[str] = {R.INTAKE_CLERK, R.PETITION_HEAD}
_PETITION_DECIDE: set[str] = {R.PETITION_HEAD, R.LEADER}
_HANDLING: set[str] = {R.HANDLER, R.DEPARTMENT_HEAD}
_APPROVE: set[str] = {R.DEPARTMENT_HEAD, R.LEADER}
_OPEN_HANDLING: set[str] = {S.ACCEPTED, S.DISPOSED, S.SHELVED}

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t(Action.SCREEN, {S.RECEIVED}, S.SCREENED, _INTAKE),
        _t(Action.NOT_ACCEPT, {S.RECEIVED, S.SCREENED}, S.NOT_ACCEPTED, _PETITION_DECIDE),
        # Send up, transfer and assign move the case to another office, where it is received anew.
        _t(Action.SEND_UP, {S.RECEIVED, S.SCREENED}, S.RECEIVED, _PETITION_DECIDE),
        _t(Action.TRANSFER_DOWN, {S.RECEIVED, S.SCREENED}, S.RECEIVED, _PETITION_DECIDE),
        _t(Action.ASSIGN, {S.RECEIVED, S.SCREENED}, S.RECEIVED, _PETITION_DECIDE),
        _t(Action.MARK_REPEAT, {S.RECEIVED, S.SCREENED}, S.REPEAT, _INTAKE),
        _t(Action.ACCEPT, {S.RECEIVED, S.SCREENED}, S.ACCEPTED, _PETITION_DECIDE),
        _t(Action.NOTIFY_ACCEPTANCE, _OPEN_HANDLING | {S.CONCLUDED}, None, _INTAKE | _HANDLING),
        _t(Action.RETURN, {S.ACCEPTED}, S.SCREENED, _HANDLING),
        _t(Action.DISPOSE, {S.ACCEPTED}, S.DISPOSED, _APPROVE, ("way", {"shelved": S.SHELVED})),
        _t(Action.RECORD_INQUIRY_OUTCOME, {S.DISPOSED}, None, _HANDLING),
        _t(Action.CONCLUDE, {S.DISPOSED}, S.CONCLUDED, _APPROVE),
        _t(Action.FEED_BACK, {S.CONCLUDED, S.NOT_ACCEPTED}, S.FED_BACK, _INTAKE | _HANDLING),
        _t(Action.RECORD_RETURN_VISIT, {S.FED_BACK}, None, _INTAKE | _HANDLING),
        _t(Action.REOPEN, {S.SHELVED, S.CONCLUDED, S.FED_BACK, S.ARCHIVED}, S.ACCEPTED, _APPROVE | {R.PETITION_HEAD}),
        _t(Action.ARCHIVE, {S.NOT_ACCEPTED, S.REPEAT, S.CONCLUDED, S.FED_BACK}, S.ARCHIVED, _INTAKE),
    ]
}

# Labels of every event action; apps that write their own events (supervision …) add theirs.
EVENT_LABELS: dict[str, Any] = {}


def event_label(action: str) -> str:
    if action in Action.values:
        return str(Action(action).label)
    return str(EVENT_LABELS.get(action, action))


# Actions that hand the case to another office.
MOVING_ACTIONS = frozenset({Action.SEND_UP, Action.TRANSFER_DOWN, Action.ASSIGN})
# States in which a case is finished at its office (no deadline runs).
CLOSED_STATES = frozenset({S.NOT_ACCEPTED, S.REPEAT, S.FED_BACK, S.ARCHIVED})


def transition_for(action: str) -> Transition | None:
    return TRANSITIONS.get(action)


def target_state(transition: Transition, current: str, params: dict[str, object] | None = None) -> str:
    if transition.branch and params:
        name, mapping = transition.branch
        value = params.get(name)
        if isinstance(value, str) and value in mapping:
            return mapping[value]
    return transition.target if transition.target is not None else current

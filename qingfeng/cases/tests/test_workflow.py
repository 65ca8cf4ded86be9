"""Every transition in the table: allowed and forbidden by state, role and office."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from qingfeng.accounts.models import Role
from qingfeng.cases.choices import DisposalWay, Status
from qingfeng.cases.models import Case, CaseAccess, CaseEvent
from qingfeng.cases.services import allowed_actions, case_transition
from qingfeng.cases.workflow import TRANSITIONS, Action
from qingfeng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def params_for(action: str, case: Case, tree: dict[str, Any]) -> dict[str, Any]:
    """Parameters that make each action valid (the table check is what these tests probe)."""
    tomorrow = (timezone.localdate() + timedelta(days=10)).isoformat()
    return {
        Action.NOT_ACCEPT: {"not_accepted_reason": "litigation"},
        Action.TRANSFER_DOWN: {"target_office": tree["street"].code},
        Action.ASSIGN: {"target_office": tree["street"].code, "due_date": tomorrow},
        Action.MARK_REPEAT: {"repeat_of": "__earlier__"},
        Action.DISPOSE: {"way": "verification"},
        Action.RECORD_INQUIRY_OUTCOME: {"outcome": "cleared"},
        Action.CONCLUDE: {"substantiation": "substantiated", "conclusion": "查实，给予党内警告处分。"},
        Action.RECORD_RETURN_VISIT: {"problem_solved": True, "satisfaction": 4},
    }.get(action, {})


def put_in_state(case: Case, state: str) -> None:
    """Test setup only: place a case in a state with the fields that state implies."""
    fields: dict[str, Any] = {"status": state}
    if state == Status.DISPOSED:
        fields.update(disposal_way=DisposalWay.INQUIRY, inquiry_outcome="cleared")
    if state in (Status.CONCLUDED, Status.FED_BACK, Status.ARCHIVED):
        fields.update(concluded_at=timezone.now(), is_real_name=False)
    Case.objects.filter(pk=case.pk).update(**fields)


CASES = [(action, state) for action, t in TRANSITIONS.items() for state in sorted(t.sources)]


@pytest.mark.parametrize(("action", "state"), CASES)
def test_each_allowed_transition_moves_the_case_and_writes_an_event(action, state, tree, staff, register):
    county = staff("county")
    case = register("county", actor=county)
    earlier = register("county", actor=county)
    put_in_state(case, state)
    params = params_for(action, case, tree)
    if params.get("repeat_of") == "__earlier__":
        params["repeat_of"] = earlier.number
    case_transition(case_number=case.number, action=action, actor=county, reason="依规办理", params=params)
    case.refresh_from_db()
    event = CaseEvent.objects.filter(case=case).exclude(action="register").get()
    assert event.action == action
    assert event.from_status == state
    assert event.to_status == case.status
    assert event.actor == county
    assert event.office == tree["county"]
    assert event.reason == "依规办理"
    expected = TRANSITIONS[action].target or state
    if action == Action.DISPOSE:
        expected = Status.DISPOSED
    assert case.status == expected


FORBIDDEN_STATES = [
    (action, state) for action, t in TRANSITIONS.items() for state in Status.values if state not in t.sources
]


@pytest.mark.parametrize(("action", "state"), FORBIDDEN_STATES)
def test_an_action_from_a_wrong_state_is_a_conflict_and_changes_nothing(action, state, tree, staff, register):
    county = staff("county")
    case = register("county", actor=county)
    put_in_state(case, state)
    before = Case.objects.get(pk=case.pk)
    with pytest.raises(Conflict):
        case_transition(
            case_number=case.number, action=action, actor=county, reason="x", params=params_for(action, case, tree)
        )
    after = Case.objects.get(pk=case.pk)
    assert after.status == before.status and after.holding_office_id == before.holding_office_id
    assert not CaseEvent.objects.filter(case=case).exclude(action="register").exists()


ROLE_CASES = [(action, role) for action, t in TRANSITIONS.items() for role in Role.values if role not in t.roles]


@pytest.mark.parametrize(("action", "role"), ROLE_CASES)
def test_a_role_not_in_the_table_is_refused(action, role, tree, make_user, register):
    user = make_user(tree["county"], role)
    case = register("county")
    put_in_state(case, sorted(TRANSITIONS[action].sources)[0])
    with pytest.raises(PermissionDenied):
        case_transition(
            case_number=case.number, action=action, actor=user, reason="x", params=params_for(action, case, tree)
        )
    assert not CaseEvent.objects.filter(case=case).exclude(action="register").exists()


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_an_office_that_does_not_hold_the_case_cannot_act(action, tree, staff, register):
    case = register("county", actor=staff("county"))
    case_transition(
        case_number=case.number,
        action=Action.TRANSFER_DOWN,
        actor=staff("county"),
        reason="属地管理",
        params={"target_office": tree["street"].code},
    )
    put_in_state(case, sorted(TRANSITIONS[action].sources)[0])
    # The county still sees the case it sent down but may not act on it.
    with pytest.raises(PermissionDenied):
        case_transition(case_number=case.number, action=action, actor=staff("county"), reason="x", params={})
    # A sibling county does not even learn the case exists.
    with pytest.raises(NotFound):
        case_transition(case_number=case.number, action=action, actor=staff("sibling"), reason="x", params={})


def test_transfer_moves_the_case_and_the_sender_keeps_read_access(tree, staff, register):
    case = register("county", actor=staff("county"))
    case_transition(
        case_number=case.number,
        action=Action.TRANSFER_DOWN,
        actor=staff("county"),
        reason="属地管理",
        params={"target_office": tree["street"].code},
    )
    case.refresh_from_db()
    assert case.holding_office == tree["street"]
    assert case.status == Status.RECEIVED
    assert case.source == "transferred"
    assert case.accept_due is not None and case.next_due_kind == "accept"
    assert set(CaseAccess.objects.filter(case=case, hidden=False).values_list("office__code", flat=True)) == {
        tree["county"].code,
        tree["street"].code,
    }
    assert allowed_actions(case=case, user=staff("county")) == []
    assert Action.ACCEPT in allowed_actions(case=case, user=staff("street"))


def test_transfer_to_an_office_outside_the_subtree_names_the_field(tree, staff, register):
    case = register("county", actor=staff("county"))
    with pytest.raises(ValidationFailed) as exc:
        case_transition(
            case_number=case.number,
            action=Action.TRANSFER_DOWN,
            actor=staff("county"),
            reason="x",
            params={"target_office": tree["sibling"].code},
        )
    assert "target_office" in exc.value.fields


def test_assign_sets_the_due_date_chosen_by_the_assigning_office(tree, staff, register):
    case = register("county", actor=staff("county"))
    due = timezone.localdate() + timedelta(days=30)
    case_transition(
        case_number=case.number,
        action=Action.ASSIGN,
        actor=staff("county"),
        reason="交办",
        params={"target_office": tree["street"].code, "due_date": due.isoformat()},
    )
    case.refresh_from_db()
    assert case.assignment_due == due
    assert case.source == "assigned"
    assert case.assigned_by == tree["county"]


def test_assign_without_a_due_date_is_refused(tree, staff, register):
    case = register("county", actor=staff("county"))
    with pytest.raises(ValidationFailed) as exc:
        case_transition(
            case_number=case.number,
            action=Action.ASSIGN,
            actor=staff("county"),
            reason="交办",
            params={"target_office": tree["street"].code},
        )
    assert "due_date" in exc.value.fields


def test_send_up_about_own_leaders_hides_the_case_from_the_sender(tree, staff, register):
    case = register("county", actor=staff("county"))
    case_transition(
        case_number=case.number,
        action=Action.SEND_UP,
        actor=staff("county"),
        reason="反映本级领导班子成员",
        params={"concerns_own_leaders": True},
    )
    case.refresh_from_db()
    assert case.holding_office == tree["city"]
    with pytest.raises(NotFound):
        case_transition(case_number=case.number, action=Action.SCREEN, actor=staff("county"), params={})


def test_a_plain_send_up_keeps_the_sender_informed(tree, staff, register):
    case = register("county", actor=staff("county"))
    case_transition(case_number=case.number, action=Action.SEND_UP, actor=staff("county"), reason="属上级管辖")
    assert CaseAccess.objects.filter(case=case, office=tree["county"], hidden=False).exists()


def test_the_national_office_cannot_send_up(tree, staff, register):
    case = register("national", actor=staff("national"))
    with pytest.raises(Conflict):
        case_transition(case_number=case.number, action=Action.SEND_UP, actor=staff("national"), reason="x")


def test_a_repeat_with_new_facts_reopens_the_earlier_case(tree, staff, register):
    county = staff("county")
    earlier = register("county", actor=county)
    put_in_state(earlier, Status.FED_BACK)
    new = register("county", actor=county)
    case_transition(
        case_number=new.number,
        action=Action.MARK_REPEAT,
        actor=county,
        reason="补充了新的转账记录",
        params={"repeat_of": earlier.number, "new_facts": True},
    )
    earlier.refresh_from_db()
    new.refresh_from_db()
    assert new.status == Status.REPEAT and new.repeat_of == earlier and new.is_repeat
    assert earlier.status == Status.ACCEPTED and earlier.reopened_count == 1
    assert earlier.events.filter(action=Action.REOPEN).exists()


def test_mark_repeat_of_a_case_the_office_cannot_see_is_refused(tree, staff, register):
    other = register("sibling", actor=staff("sibling"))
    new = register("county", actor=staff("county"))
    with pytest.raises(ValidationFailed):
        case_transition(
            case_number=new.number, action=Action.MARK_REPEAT, actor=staff("county"), params={"repeat_of": other.number}
        )


def test_disposal_by_shelving_leads_to_the_shelved_state(tree, staff, register):
    case = register("county", actor=staff("county"))
    put_in_state(case, Status.ACCEPTED)
    case_transition(case_number=case.number, action=Action.DISPOSE, actor=staff("county"), params={"way": "shelved"})
    case.refresh_from_db()
    assert case.status == Status.SHELVED


def test_inquiry_disposal_starts_the_inquiry_deadlines_and_blocks_conclusion_until_the_outcome(tree, staff, register):
    county = staff("county")
    case = register("county", actor=county)
    put_in_state(case, Status.ACCEPTED)
    case_transition(case_number=case.number, action=Action.DISPOSE, actor=county, params={"way": "inquiry"})
    case.refresh_from_db()
    assert case.inquiry_answer_due and case.inquiry_report_due
    with pytest.raises(Conflict):
        case_transition(
            case_number=case.number,
            action=Action.CONCLUDE,
            actor=county,
            params={"substantiation": "unsubstantiated", "conclusion": "不属实"},
        )
    case_transition(
        case_number=case.number, action=Action.RECORD_INQUIRY_OUTCOME, actor=county, params={"outcome": "cleared"}
    )
    case_transition(
        case_number=case.number,
        action=Action.CONCLUDE,
        actor=county,
        params={"substantiation": "unsubstantiated", "conclusion": "不属实，予以澄清正名", "name_cleared": True},
    )
    case.refresh_from_db()
    assert case.status == Status.CONCLUDED and case.name_cleared
    assert case.feedback_due is not None and case.next_due_kind == "feedback"


def test_a_real_name_case_cannot_be_archived_before_feedback(tree, staff, register):
    case = register("county", actor=staff("county"))
    Case.objects.filter(pk=case.pk).update(status=Status.CONCLUDED, is_real_name=True)
    with pytest.raises(Conflict):
        case_transition(case_number=case.number, action=Action.ARCHIVE, actor=staff("county"))


def test_steps_that_need_a_reason_refuse_an_empty_one(tree, staff, register):
    case = register("county", actor=staff("county"))
    with pytest.raises(ValidationFailed) as exc:
        case_transition(
            case_number=case.number,
            action=Action.NOT_ACCEPT,
            actor=staff("county"),
            params={"not_accepted_reason": "litigation"},
        )
    assert "reason" in exc.value.fields


def test_return_visit_validates_satisfaction(tree, staff, register):
    case = register("county", actor=staff("county"))
    put_in_state(case, Status.FED_BACK)
    with pytest.raises(ValidationFailed) as exc:
        case_transition(
            case_number=case.number,
            action=Action.RECORD_RETURN_VISIT,
            actor=staff("county"),
            params={"problem_solved": True, "satisfaction": 9},
        )
    assert "satisfaction" in exc.value.fields


def test_full_life_of_a_case_is_recorded_step_by_step(tree, staff, register):
    clerk = staff("county")
    case = register("county", actor=clerk)
    steps = [
        (Action.SCREEN, {"item_type": "accusation"}),
        (Action.ACCEPT, {}),
        (Action.NOTIFY_ACCEPTANCE, {}),
        (Action.DISPOSE, {"way": "verification", "study_opinion": "集体研究，初步核实"}),
        (
            Action.CONCLUDE,
            {
                "substantiation": "partly",
                "conclusion": "部分属实",
                "sanctions": "诫勉谈话",
                "losses_recovered": "20000",
            },
        ),
        (Action.FEED_BACK, {}),
        (Action.RECORD_RETURN_VISIT, {"problem_solved": False, "satisfaction": 2}),
        (Action.ARCHIVE, {}),
    ]
    for action, params in steps:
        case_transition(case_number=case.number, action=action, actor=clerk, reason="按规定办理", params=params)
    case.refresh_from_db()
    assert case.status == Status.ARCHIVED
    assert case.problem_solved is False and case.satisfaction == 2
    assert str(case.losses_recovered) == "20000.00"
    assert list(case.events.values_list("action", flat=True)) == ["register"] + [a for a, _ in steps]
    assert case.next_due is None

"""Marking, chasing, closing and acknowledging: who may, what is written, what is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from qingfeng.accounts.models import Role
from qingfeng.cases.choices import Status
from qingfeng.cases.models import Case, CaseEvent
from qingfeng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qingfeng.notifications.models import Notification
from qingfeng.supervision.models import Chase, SupervisionMark
from qingfeng.supervision.permissions import SUPERVISE_ROLES, can_supervise
from qingfeng.supervision.services import chase_acknowledge, chase_create, mark_close, mark_create

pytestmark = pytest.mark.django_db


def mark(case, actor, later, **overrides):
    args = {"note": "请于月底前报送核查进展", "target_date": later, "form": "letter", **overrides}
    return mark_create(case_number=case.number, actor=actor, **args)


def test_the_office_that_sent_a_case_down_marks_it_for_supervision(sent_case, supervisor, tree, later):
    m = mark(sent_case, supervisor, later)
    assert (m.office, m.target_office, m.form, m.target_date) == (tree["city"], tree["street"], "letter", later)
    assert m.created_by == supervisor and m.is_open
    event = CaseEvent.objects.get(case=sent_case, action="supervise")
    assert event.actor == supervisor and event.office == tree["city"] and event.target_office == tree["street"]
    assert event.reason == "请于月底前报送核查进展"
    assert event.from_status == event.to_status == sent_case.status
    assert event.data == {"mark": m.pk, "form": "letter", "target_date": later.isoformat()}
    note = Notification.objects.get(kind=Notification.Kind.SUPERVISION)
    assert note.office == tree["street"] and note.case_id == sent_case.pk
    assert sent_case.number in note.message and tree["city"].name in note.message


def test_an_upper_office_on_the_way_down_may_also_chase(sent_case, staff, tree):
    chase = chase_create(case_number=sent_case.number, actor=staff("county"), message="请加快办理")
    assert chase.office == tree["county"] and chase.target_office == tree["street"]


def test_a_sibling_county_can_neither_see_nor_supervise(sent_case, staff, later):
    with pytest.raises(NotFound):
        mark(sent_case, staff("sibling"), later)
    with pytest.raises(NotFound):
        chase_create(case_number=sent_case.number, actor=staff("sibling"), message="催办")


def test_an_upper_office_that_never_saw_the_case_cannot_supervise_it(sent_case, staff, later):
    # The province is an ancestor but has no access row: to it the case does not exist.
    with pytest.raises(NotFound):
        mark(sent_case, staff("province"), later)


def test_the_holding_office_cannot_supervise_its_own_case(sent_case, staff, later):
    with pytest.raises(PermissionDenied):
        mark(sent_case, staff("street"), later)
    with pytest.raises(PermissionDenied):
        chase_create(case_number=sent_case.number, actor=staff("street"), message="自己催自己")


def test_a_lower_office_that_sent_a_case_up_cannot_supervise_it(register, staff, later):
    from qingfeng.cases.services import case_transition

    case = register("street", actor=staff("street"))
    case_transition(case_number=case.number, action="send_up", actor=staff("street"), reason="属上级管辖")
    with pytest.raises(PermissionDenied):
        mark(case, staff("street"), later)


@pytest.mark.parametrize("role", [Role.INTAKE_CLERK, Role.HANDLER, Role.ANALYST, Role.AUDITOR, Role.ADMINISTRATOR])
def test_a_role_outside_the_supervising_roles_is_refused(sent_case, make_user, tree, later, role):
    user = make_user(tree["city"], role)
    with pytest.raises(PermissionDenied) as exc:
        mark(sent_case, user, later)
    assert exc.value.extra["required_roles"] == sorted(SUPERVISE_ROLES)
    with pytest.raises(PermissionDenied):
        chase_create(case_number=sent_case.number, actor=user, message="催办")
    assert not can_supervise(user=user, case=sent_case)


@pytest.mark.parametrize("role", sorted(SUPERVISE_ROLES))
def test_each_supervising_role_may_chase(sent_case, make_user, tree, role):
    chase_create(case_number=sent_case.number, actor=make_user(tree["city"], role), message="催办")


def test_a_finished_case_cannot_be_supervised(sent_case, supervisor, later):
    Case.objects.filter(pk=sent_case.pk).update(status=Status.ARCHIVED)
    with pytest.raises(Conflict):
        mark(sent_case, supervisor, later)
    with pytest.raises(Conflict):
        chase_create(case_number=sent_case.number, actor=supervisor, message="催办")


def test_one_open_mark_per_office_and_a_new_one_after_closing(sent_case, supervisor, staff, later):
    first = mark(sent_case, supervisor, later)
    with pytest.raises(Conflict):
        mark(sent_case, supervisor, later)
    mark(sent_case, staff("county"), later)  # another office may supervise too
    mark_close(mark_id=first.pk, actor=supervisor, reason="已报送进展")
    second = mark(sent_case, supervisor, later, form="on_site")
    assert second.pk != first.pk
    assert SupervisionMark.objects.filter(case=sent_case, closed_at__isnull=True).count() == 2


def test_mark_input_is_checked_and_nothing_is_written(sent_case, supervisor):
    events = CaseEvent.objects.count()
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as exc:
        mark(sent_case, supervisor, today, note="  ", form="fax")
    assert set(exc.value.fields) == {"note", "form", "target_date"}
    with pytest.raises(ValidationFailed):
        mark(sent_case, supervisor, None)
    assert CaseEvent.objects.count() == events
    assert not SupervisionMark.objects.exists() and not Notification.objects.filter(kind="supervision").exists()


def test_a_chase_writes_an_event_and_reaches_the_holding_office(sent_case, supervisor, tree):
    chase = chase_create(case_number=sent_case.number, actor=supervisor, message="  该件已超期，请尽快办理  ")
    assert chase.message == "该件已超期，请尽快办理" and chase.seen_at is None
    event = CaseEvent.objects.get(case=sent_case, action="chase")
    assert event.reason == chase.message and event.data == {"chase": chase.pk}
    assert event.target_office == tree["street"]
    note = Notification.objects.get(kind=Notification.Kind.CHASE)
    assert note.office == tree["street"] and "该件已超期" in note.message


def test_an_empty_chase_is_refused(sent_case, supervisor):
    with pytest.raises(ValidationFailed) as exc:
        chase_create(case_number=sent_case.number, actor=supervisor, message=" ")
    assert "message" in exc.value.fields
    assert not Chase.objects.exists()


def test_the_chased_office_acknowledges_once_and_the_chaser_is_told(sent_case, supervisor, staff, tree):
    chase = chase_create(case_number=sent_case.number, actor=supervisor, message="请尽快办理")
    with pytest.raises(PermissionDenied):
        chase_acknowledge(chase_id=chase.pk, actor=staff("county"))  # can see it, but was not chased
    with pytest.raises(NotFound):
        chase_acknowledge(chase_id=chase.pk, actor=staff("sibling"))
    seen = chase_acknowledge(chase_id=chase.pk, actor=staff("street"), reply="已于今日约谈")
    assert seen.seen_at is not None and seen.seen_by == staff("street") and seen.reply == "已于今日约谈"
    event = CaseEvent.objects.get(case=sent_case, action="chase_seen")
    assert event.office == tree["street"] and event.target_office == tree["city"] and event.reason == "已于今日约谈"
    told = Notification.objects.get(office=tree["city"], kind=Notification.Kind.EVENT)
    assert "已于今日约谈" in told.message
    with pytest.raises(Conflict):
        chase_acknowledge(chase_id=chase.pk, actor=staff("street"))


def test_an_analyst_of_the_chased_office_cannot_acknowledge(sent_case, supervisor, make_user, tree):
    chase = chase_create(case_number=sent_case.number, actor=supervisor, message="请尽快办理")
    with pytest.raises(PermissionDenied):
        chase_acknowledge(chase_id=chase.pk, actor=make_user(tree["street"], Role.ANALYST))


def test_only_the_supervising_office_closes_its_mark_with_a_reason(sent_case, supervisor, staff, tree, later):
    m = mark(sent_case, supervisor, later)
    with pytest.raises(PermissionDenied):
        mark_close(mark_id=m.pk, actor=staff("county"), reason="结束")
    with pytest.raises(NotFound):
        mark_close(mark_id=m.pk, actor=staff("sibling"), reason="结束")
    with pytest.raises(ValidationFailed):
        mark_close(mark_id=m.pk, actor=supervisor, reason="")
    closed = mark_close(mark_id=m.pk, actor=supervisor, reason="已办结，督办结束")
    assert closed.closed_at is not None and closed.closed_by == supervisor and not closed.is_open
    event = CaseEvent.objects.get(case=sent_case, action="close_supervision")
    assert event.reason == "已办结，督办结束" and event.data == {"mark": m.pk}
    assert Notification.objects.filter(office=tree["street"], kind=Notification.Kind.EVENT).exists()
    with pytest.raises(Conflict):
        mark_close(mark_id=m.pk, actor=supervisor, reason="再次关闭")
    with pytest.raises(NotFound):
        mark_close(mark_id=999999, actor=supervisor, reason="x")


def test_a_mark_made_yesterday_keeps_its_target_office_after_the_case_moves(
    register, staff, send_down, supervisor, tree, later
):
    case = register("city", actor=staff("city"))
    case = send_down(case, "county")
    m = mark(case, supervisor, later)
    send_down(case, "street")
    m.refresh_from_db()
    assert m.target_office == tree["county"] and m.is_open
    assert (timezone.now() - m.created_at) < timedelta(minutes=1)

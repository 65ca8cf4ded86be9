from __future__ import annotations

import pytest

from qingfeng.cases.serializers import ACTION_SERIALIZERS
from qingfeng.cases.services import REASON_REQUIRED
from qingfeng.cases.workflow import TRANSITIONS
from qingfeng.web.action_forms import ACTION_FORMS

pytestmark = pytest.mark.django_db


def test_there_is_a_form_for_every_workflow_action():
    assert set(ACTION_FORMS) == set(TRANSITIONS) == set(ACTION_SERIALIZERS)


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_each_form_has_the_same_fields_as_the_api_serializer(action, register, staff):
    case = register("county", actor=staff("county"))
    form = ACTION_FORMS[action](case=case, user=staff("county"))
    serializer = ACTION_SERIALIZERS[action]()
    assert set(form.fields) == set(serializer.fields)
    assert form.prefix == action
    assert form.fields["reason"].required == (action in REASON_REQUIRED)
    assert list(form.fields)[-1] == "reason"


def test_required_fields_match_the_serializer(register, staff):
    case = register("county", actor=staff("county"))
    for action, serializer_class in ACTION_SERIALIZERS.items():
        form = ACTION_FORMS[action](case=case, user=staff("county"))
        for name, field in serializer_class().fields.items():
            if name == "reason":
                continue
            assert form.fields[name].required == field.required, (action, name)


def test_a_return_visit_keeps_a_no_answer(register, staff):
    case = register("county", actor=staff("county"))
    form = ACTION_FORMS["record_return_visit"](
        {"record_return_visit-problem_solved": "false", "record_return_visit-satisfaction": "3"},
        case=case,
        user=staff("county"),
    )
    assert form.is_valid(), form.errors
    assert form.params() == {"problem_solved": False, "satisfaction": 3}


def test_the_accept_form_offers_handlers_of_the_holding_office(register, staff, make_user, tree):
    from qingfeng.accounts.models import Role

    case = register("county", actor=staff("county"))
    handler = make_user(tree["county"], Role.HANDLER, username="handler_li")
    make_user(tree["sibling"], Role.HANDLER, username="handler_other")
    form = ACTION_FORMS["accept"](case=case, user=staff("county"))
    labels = [label for _value, label in form.fields["handler"].choices]
    assert str(handler) in labels and "handler_other" not in labels

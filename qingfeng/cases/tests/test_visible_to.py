"""PostgreSQL's cases_case.visible_to (migration 0005) stays in step with the CaseAccess rows.

The database keeps it: whatever writes the access rows (the workflow, a queryset update, a
raw statement) the array lists exactly the offices with a row that is not hidden. The list
selector narrows by it, and still checks the access row itself.
"""

from __future__ import annotations

import pytest
from django.db import connection

from qingfeng.cases.models import Case, CaseAccess
from qingfeng.cases.selectors import CaseFilters, case_list
from qingfeng.cases.services import case_transition
from qingfeng.cases.workflow import Action

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def visible_to(case: Case) -> list[int]:
    with connection.cursor() as c:
        c.execute("SELECT visible_to FROM cases_case WHERE id = %s", [case.pk])
        return list(c.fetchone()[0])


def access(case: Case) -> list[int]:
    return sorted(CaseAccess.objects.filter(case=case, hidden=False).values_list("office_id", flat=True))


def test_a_registered_case_lists_its_office(tree, staff, register):
    case = register("county", actor=staff("county"))
    assert visible_to(case) == access(case) == [tree["county"].pk]


def test_a_transfer_adds_the_receiver_and_keeps_the_sender(tree, staff, register):
    case = register("county", actor=staff("county"))
    case_transition(
        case_number=case.number,
        action=Action.TRANSFER_DOWN,
        actor=staff("county"),
        reason="属地管理",
        params={"target_office": tree["street"].code},
    )
    assert visible_to(case) == access(case) == sorted([tree["county"].pk, tree["street"].pk])


def test_a_send_up_about_own_leaders_removes_the_sender(tree, staff, register):
    case = register("county", actor=staff("county"))
    case_transition(
        case_number=case.number,
        action=Action.SEND_UP,
        actor=staff("county"),
        reason="反映本级领导班子成员",
        params={"concerns_own_leaders": True},
    )
    assert visible_to(case) == access(case) == [tree["city"].pk]


def test_any_write_to_the_access_rows_keeps_it_in_step(tree, staff, register):
    case = register("county", actor=staff("county"))
    CaseAccess.objects.create(case=case, office=tree["province"], received_at=case.received_at)
    assert visible_to(case) == access(case) == sorted([tree["county"].pk, tree["province"].pk])
    CaseAccess.objects.filter(case=case, office=tree["county"]).update(hidden=True)
    assert visible_to(case) == access(case) == [tree["province"].pk]
    CaseAccess.objects.filter(case=case, office=tree["province"]).delete()
    assert visible_to(case) == access(case) == []
    CaseAccess.objects.filter(case=case, office=tree["county"]).update(hidden=False)
    assert visible_to(case) == [tree["county"].pk]


def test_the_list_still_checks_the_access_row(tree, staff, register):
    case = register("county", actor=staff("county"), title="反映扶贫资金被挪用")
    # A stale array (say, written by hand) never shows a case to an office without access.
    with connection.cursor() as c:
        c.execute("UPDATE cases_case SET visible_to = %s WHERE id = %s", [[tree["sibling"].pk], case.pk])
    assert not case_list(office=tree["sibling"], filters=CaseFilters()).exists()
    assert not case_list(office=tree["sibling"], filters=CaseFilters(q="扶贫")).exists()

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from qingfeng.accounts.models import Role, User
from qingfeng.cases.models import Case
from qingfeng.cases.services import case_transition
from qingfeng.offices.models import Office


@pytest.fixture(autouse=True)
def english(settings: Any) -> Iterator[None]:
    """Assertions read English messages; one test checks the Chinese catalog explicitly."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def send_down(staff: Callable[[str], User], tree: dict[str, Office]) -> Callable[..., Case]:
    """Transfer a case down the tree through the real workflow: send_down(case, "county", "street")."""

    def move(case: Case, *path: str) -> Case:
        for key in path:
            holder = Case.objects.select_related("holding_office").get(pk=case.pk).holding_office
            sender = next(k for k, o in tree.items() if o.pk == holder.pk)
            case_transition(
                case_number=case.number,
                action="transfer_down",
                actor=staff(sender),
                reason="属下级管辖",
                params={"target_office": tree[key].code},
            )
        return Case.objects.select_related("holding_office").get(pk=case.pk)

    return move


@pytest.fixture
def sent_case(register: Callable[..., Case], staff: Callable[[str], User], send_down: Callable[..., Case]) -> Case:
    """Registered at the city, transferred to the county, then to the street (the holder)."""
    case = register("city", actor=staff("city"), title="反映某街道干部违规收受礼金")
    return send_down(case, "county", "street")


@pytest.fixture
def later() -> date:
    return timezone.localdate() + timedelta(days=10)


@pytest.fixture
def supervisor(make_user: Callable[..., User], tree: dict[str, Office]) -> User:
    """A city petition-office head: may supervise and chase."""
    return make_user(tree["city"], Role.PETITION_HEAD, username="city_head")


def make_overdue(case: Case, *, due: date, serious_on: date) -> None:
    """Test setup only: put a deadline in the past (what time passing does)."""
    Case.objects.filter(pk=case.pk).update(
        next_due=due, next_due_kind="accept", next_warn_on=due - timedelta(days=1), next_serious_on=serious_on
    )

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone

from qingfeng.cases.models import Case
from qingfeng.cases.services import case_transition
from qingfeng.intake.services import ReporterInput


def at(text: str) -> datetime:
    """An aware local datetime from "YYYY-MM-DD HH:MM"."""
    return timezone.make_aware(datetime.fromisoformat(text))


@pytest.fixture
def step(staff: Callable[[str], Any]) -> Callable[..., Case]:
    """step(case, "accept", "county", **params): run one workflow action as that office's staff."""

    def run(case: Case, action: str, office: str = "county", reason: str = "依规办理", **params: Any) -> Case:
        return case_transition(
            case_number=case.number, action=action, actor=staff(office), reason=reason, params=params
        )

    return run


@pytest.fixture
def anonymous() -> ReporterInput:
    return ReporterInput(anonymous=True)

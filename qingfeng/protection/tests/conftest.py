from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qingfeng.accounts.models import User
from qingfeng.cases.models import Case
from qingfeng.cases.services import case_transition
from qingfeng.intake.services import ReporterInput

IDENTITY = {
    "name": "王秘密",
    "id_number": "110101199003076632",
    "phone": "13912345678",
    "phone2": "01065550123",
    "email": "whistle@example.cn",
    "address": "北京市东城区秘密胡同9号",
    "unit": "某某局办公室机密科",
}


@pytest.fixture
def secret_reporter() -> ReporterInput:
    return ReporterInput(anonymous=False, **IDENTITY)


@pytest.fixture
def scenario(tree: Any, staff: Callable[[str], User], register: Callable[..., Case], secret_reporter: Any) -> Any:
    """Cases seen from every office relation.

    holding: registered and held at the county.
    sender: registered at the city, transferred down to the county (city is the sending office).
    hidden: registered at the county, sent up to the city as concerning the county's own leaders.
    """

    def make(relation: str) -> Case:
        upload = SimpleUploadedFile("线索.txt", "材料内容".encode(), content_type="text/plain")
        if relation == "sender":
            case = register("city", actor=staff("city"), reporter=secret_reporter, attachments=[upload])
            case_transition(
                case_number=case.number,
                action="transfer_down",
                actor=staff("city"),
                reason="属地管理",
                params={"target_office": "110101"},
            )
        elif relation == "hidden":
            case = register("county", actor=staff("county"), reporter=secret_reporter, attachments=[upload])
            case_transition(
                case_number=case.number,
                action="send_up",
                actor=staff("county"),
                reason="涉及本级领导",
                params={"concerns_own_leaders": True},
            )
        else:
            case = register("county", actor=staff("county"), reporter=secret_reporter, attachments=[upload])
        case.refresh_from_db()
        return case

    return make

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from qingfeng.cases.models import Case
from qingfeng.cases.services import case_transition
from qingfeng.portal import services

DESCRIPTION = "2026年春节期间，某镇镇长李四多次收受辖区企业所送礼金共计两万元，并为该企业违规办理用地手续。"


def report_fields(**overrides: Any) -> dict[str, Any]:
    """A valid anonymous report as the form posts it, for the Dongcheng district of Beijing."""
    data: dict[str, Any] = {
        "token": "tok-" + "a" * 28,
        "anonymous": "anonymous",
        "item_type": "accusation",
        "title": "反映某镇镇长收受礼金",
        "description": DESCRIPTION,
        "party_kind": "person",
        "party_name": "李四",
        "party_post": "镇长",
        "party_unit": "某某镇人民政府",
        "region_province": "11",
        "region_city": "1101",
        "region_county": "110101",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def file_report(tree: Any) -> Callable[..., Any]:
    """POST the report form: file_report(client, **overrides) -> response."""

    def post(client: Client, **overrides: Any) -> Any:
        return client.post(reverse("portal:report"), report_fields(**overrides))

    return post


@pytest.fixture
def submit(tree: Any) -> Callable[..., services.Receipt]:
    """File an anonymous report through the service: submit(token=..., **ReportInput fields)."""
    counter = iter(range(10_000))

    def run(token: str | None = None, client: str = "127.0.0.1", **overrides: Any) -> services.Receipt:
        values: dict[str, Any] = {
            "anonymous": True,
            "title": "反映某镇镇长收受礼金",
            "description": DESCRIPTION,
            "region_code": "110101",
            "party_name": "李四",
        }
        values.update(overrides)
        return services.report_submit(
            data=services.ReportInput(**values),
            token=token or f"svc-token-{next(counter):08d}-xxxxxxxx",
            via="form",
            client=client,
        )

    return run


@pytest.fixture
def step(staff: Callable[[str], Any]) -> Callable[..., Case]:
    """step(case, action, office_key="county", reason=..., **params): a workflow action by that office's staff."""

    def run(case: Case, action: str, office: str = "county", reason: str = "依规办理", **params: Any) -> Case:
        return case_transition(
            case_number=case.number, action=action, actor=staff(office), reason=reason, params=params
        )

    return run


@pytest.fixture
def conclude(step: Callable[..., Case]) -> Callable[[Case], Case]:
    """Take a registered case at the county office through acceptance, disposal and conclusion."""

    def run(case: Case) -> Case:
        step(case, "accept")
        step(case, "dispose", way="verification")
        return step(
            case,
            "conclude",
            substantiation="substantiated",
            conclusion="经初步核实，反映问题属实，已给予党内警告处分。",
        )

    return run


def follow_up_login(client: Client, number: str, code: str) -> Any:
    return client.post(reverse("portal:follow-up"), {"case_number": number, "receipt_code": code})

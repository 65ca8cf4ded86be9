from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from qingfeng.factories import UserFactory
from qingfeng.offices.models import Office
from qingfeng.offices.regions import COUNTY, read_regions
from qingfeng.offices.services import offices_load


@pytest.fixture
def loaded(db) -> dict[str, Office]:
    """The default tree from the shipped table (national to county, 3,352 offices)."""
    offices_load(read_regions(max_level=COUNTY))
    return {o.code: o for o in Office.objects.filter(code__in=["0", "11", "1101", "110101", "110102", "12", "44"])}


@pytest.fixture
def api(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory())
    return client

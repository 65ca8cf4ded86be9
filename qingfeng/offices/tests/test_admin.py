from __future__ import annotations

import pytest

from qingfeng.factories import UserFactory

CHANGELIST = "/admin/offices/office/"


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_admin_finds_offices_by_code_prefix(admin_client, tree):
    response = admin_client.get(CHANGELIST, {"q": "1101"})
    assert response.status_code == 200
    found = {o.code for o in response.context["cl"].result_list}
    assert found == {"1101", "110101", "110102", "110101001", "110101002"}


def test_the_admin_finds_offices_by_name(admin_client, tree):
    response = admin_client.get(CHANGELIST, {"q": "西城"})
    assert [o.code for o in response.context["cl"].result_list] == ["110102"]


def test_the_admin_shows_offices_read_only(admin_client, tree):
    response = admin_client.get(f"{CHANGELIST}{tree['county'].pk}/change/")
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403

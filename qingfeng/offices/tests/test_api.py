from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from qingfeng.offices.models import Office

LIST = "/api/v1/offices/"


@pytest.mark.parametrize("url", [LIST, "/api/v1/offices/11/", "/api/v1/offices/11/subtree/"])
def test_the_office_api_needs_a_signed_in_user(tree, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert "message" in response.json()


def test_the_list_is_paged_in_tree_order(api, tree):
    body = api.get(LIST).json()

    assert body["count"] == 8
    assert body["page"] == 1
    assert [o["code"] for o in body["results"]] == [
        "0",
        "11",
        "1101",
        "110101",
        "110101001",
        "110101002",
        "110102",
        "12",
    ]


def test_an_office_shows_code_name_level_parent_code_and_path(api, tree):
    body = api.get("/api/v1/offices/110101/").json()
    assert body == {
        "code": "110101",
        "name": "东城区纪委监委",
        "region_name": "",
        "level": 3,
        "parent": "1101",
        "path": "/0/11/1101/110101/",
    }


def test_the_national_office_has_no_parent(api, tree):
    assert api.get("/api/v1/offices/0/").json()["parent"] is None


def test_an_unknown_office_is_not_found(api, tree):
    response = api.get("/api/v1/offices/99/")
    assert response.status_code == 404
    assert response.json()["message"]
    assert api.get("/api/v1/offices/99/subtree/").status_code == 404


def test_the_list_filters_by_parent_code(api, tree):
    body = api.get(LIST, {"parent": "1101"}).json()
    assert [o["code"] for o in body["results"]] == ["110101", "110102"]


def test_the_list_filters_by_level(api, tree):
    body = api.get(LIST, {"level": 1}).json()
    assert [o["code"] for o in body["results"]] == ["11", "12"]


def test_the_list_filters_by_name(api, tree):
    body = api.get(LIST, {"q": "城区"}).json()
    assert [o["code"] for o in body["results"]] == ["110101", "110102"]


def test_a_bad_level_is_a_validation_error(api, tree):
    response = api.get(LIST, {"level": 9})
    assert response.status_code == 400
    assert "level" in response.json()["extra"]["fields"]


def test_the_subtree_lists_the_office_and_everything_below_it(api, tree):
    body = api.get("/api/v1/offices/110101/subtree/").json()
    assert [o["code"] for o in body["results"]] == ["110101", "110101001", "110101002"]


def test_the_subtree_filters_by_level(api, tree):
    body = api.get("/api/v1/offices/11/subtree/", {"level": Office.Level.COUNTY}).json()
    assert [o["code"] for o in body["results"]] == ["110101", "110102"]


def test_the_subtree_of_the_loaded_tree_is_paged(api, loaded, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        body = api.get("/api/v1/offices/44/subtree/", {"level": 3, "page_size": 50}).json()
    assert body["count"] == Office.objects.filter(level=3, code__startswith="44").count()
    assert len(body["results"]) == 50
    assert all(o["path"].startswith("/0/44/") and o["level"] == 3 for o in body["results"])
    assert body["results"][0]["region_name"]


def test_the_schema_describes_the_office_endpoints(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/offices/", "/api/v1/offices/{code}/", "/api/v1/offices/{code}/subtree/"} <= set(paths)
    params = {p["name"] for p in paths["/api/v1/offices/"]["get"]["parameters"]}
    assert {"parent", "level", "q", "page"} <= params

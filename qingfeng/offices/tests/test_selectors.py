from __future__ import annotations

import re

import pytest
from django.db import connection

from qingfeng.offices.models import Office
from qingfeng.offices.selectors import office_ancestors, office_is_in_subtree, office_subtree

postgres_only = pytest.mark.postgres


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


def test_a_county_subtree_holds_its_sub_districts_and_not_its_sibling(tree):
    assert codes(office_subtree(tree["county"])) == {"110101", "110101001", "110101002"}
    assert codes(office_subtree(tree["county"], include_self=False)) == {"110101001", "110101002"}


def test_a_province_subtree_holds_its_cities_counties_and_sub_districts_only(tree):
    assert codes(office_subtree(tree["province"])) == {"11", "1101", "110101", "110102", "110101001", "110101002"}


def test_the_national_subtree_is_every_office(tree):
    assert office_subtree(tree["national"]).count() == Office.objects.count()


def test_a_sub_district_subtree_is_itself(tree):
    assert codes(office_subtree(tree["street"])) == {"110101001"}


def test_subtrees_of_the_loaded_tree_match_the_parent_links(loaded):
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Office.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)

    def below(pk: int) -> set[int]:
        found, stack = {pk}, [pk]
        while stack:
            for child in children.get(stack.pop(), []):
                found.add(child)
                stack.append(child)
        return found

    for code in ["0", "11", "44", "1101", "110101"]:
        office = loaded[code]
        assert set(office_subtree(office).values_list("pk", flat=True)) == below(office.pk), code


def test_a_province_does_not_contain_a_province_whose_code_shares_its_prefix(db):
    from qingfeng.factories import make_office

    nat = make_office("0")
    p1, p11 = make_office("1", None, nat), make_office("11", None, nat)
    make_office("1101", None, p11)
    assert codes(office_subtree(p1)) == {"1"}


def test_ancestors_run_from_national_down(tree):
    assert list(office_ancestors(tree["street"]).values_list("code", flat=True)) == [
        "0",
        "11",
        "1101",
        "110101",
        "110101001",
    ]
    assert list(office_ancestors(tree["county"], include_self=False).values_list("code", flat=True)) == [
        "0",
        "11",
        "1101",
    ]


def test_is_in_subtree_follows_the_path(tree):
    assert office_is_in_subtree(tree["street"], tree["province"])
    assert not office_is_in_subtree(tree["sibling"], tree["county"])


@pytest.mark.sqlite
def test_the_subtree_query_is_a_range_search_on_the_path_index_on_sqlite(loaded):
    plan = office_subtree(loaded["110101"]).explain()
    assert "USING INDEX" in plan and "path>? AND path<?" in plan, plan


@postgres_only
def test_the_subtree_query_is_an_index_range_scan_on_postgresql(loaded):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE offices_office")
    plan = office_subtree(loaded["110101"]).explain()
    # e.g. Index Scan using offices_office_path_key ... Index Cond: ((path)::text >= ... AND (path)::text < ...)
    assert re.search(r"Index (Only )?Scan using \w*path\w*", plan), plan
    assert re.search(r"Index Cond: .*path\)::text >= .* AND .*path\)::text < ", plan), plan
    assert "Seq Scan" not in plan, plan


@postgres_only
def test_the_path_column_compares_bytes_on_postgresql(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'offices_office' AND column_name = 'path'"
        )
        assert cursor.fetchone() == ("C",)

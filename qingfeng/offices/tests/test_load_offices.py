from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from qingfeng.offices.models import Office
from qingfeng.offices.regions import Region
from qingfeng.offices.services import RegionTableError, offices_load

DEFAULT_COUNTS = {0: 1, 1: 31, 2: 342, 3: 2978}


def level_counts() -> dict[int, int]:
    return {level: Office.objects.filter(level=level).count() for level in Office.Level.values}


def load(*args: str) -> dict[str, tuple[int, int, int]]:
    """Runs the command; its table as {level: (regions, created, updated)}."""
    out = StringIO()
    call_command("load_offices", *args, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["level", "regions", "created", "updated"]
    assert "offices in the database" in lines[-1]
    rows = [line.replace(",", "").split() for line in lines[1:-1]]
    return {label: (int(regions), int(created), int(updated)) for label, regions, created, updated in rows}


@pytest.mark.django_db
def test_it_loads_national_provinces_cities_and_counties_by_default():
    output = load()

    assert level_counts() == {**DEFAULT_COUNTS, 4: 0}
    assert Office.objects.count() == 3352
    assert output == {
        "national": (1, 1, 0),
        "province": (31, 31, 0),
        "city": (342, 342, 0),
        "county": (2978, 2978, 0),
        "total": (3352, 3352, 0),
    }


@pytest.mark.django_db
def test_it_adds_the_sub_districts_with_the_flag():
    load()
    output = load("--with-subdistricts")

    assert level_counts() == {**DEFAULT_COUNTS, 4: 41352}
    assert Office.objects.count() == 44704
    assert output["subdistrict"] == (41352, 41352, 0)
    assert output["total"] == (44704, 41352, 0)


@pytest.mark.django_db
def test_it_computes_code_name_level_parent_and_path():
    load("--with-subdistricts")
    street = Office.objects.select_related("parent__parent__parent__parent").get(code="110101001")

    assert (street.name, street.region_name, street.level) == (
        "东华门街道纪工委",
        "东华门街道",
        Office.Level.SUBDISTRICT,
    )
    assert street.path == "/0/11/1101/110101/110101001/"
    assert street.region_code == "110101001"
    county = street.parent
    assert (county.code, county.name, county.level) == ("110101", "东城区纪委监委", Office.Level.COUNTY)
    assert (county.parent.code, county.parent.name) == ("1101", "北京市市辖区纪委监委")
    assert county.parent.parent.name == "北京市纪委监委"
    national = county.parent.parent.parent
    assert (national.code, national.name, national.parent, national.path) == ("0", "中央纪委国家监委", None, "/0/")


@pytest.mark.django_db
def test_every_path_is_its_parents_path_plus_its_code():
    load()
    parent_path = dict(Office.objects.values_list("pk", "path"))
    for pk, code, path, parent_id, level in Office.objects.values_list("pk", "code", "path", "parent_id", "level"):
        expected = "/0/" if parent_id is None else f"{parent_path[parent_id]}{code}/"
        assert path == expected, pk
        assert path.count("/") - 2 == level


@pytest.mark.django_db
def test_running_it_twice_creates_and_updates_nothing():
    load("--with-subdistricts")
    before = dict(Office.objects.values_list("code", "pk"))

    output = load("--with-subdistricts")

    assert dict(Office.objects.values_list("code", "pk")) == before
    assert output["total"] == (44704, 0, 0)


@pytest.mark.django_db
def test_running_it_again_restores_names_and_keeps_rows():
    load()
    Office.objects.filter(code="11").update(name="旧名称", region_name="")
    pk = Office.objects.get(code="11").pk

    output = load()

    office = Office.objects.get(code="11")
    assert (office.pk, office.name, office.region_name) == (pk, "北京市纪委监委", "北京市")
    assert output["province"] == (31, 0, 1)
    assert output["total"] == (3352, 0, 1)
    assert Office.objects.count() == 3352


@pytest.mark.django_db
def test_it_adopts_offices_made_before_it_ran(tree):
    load("--with-subdistricts")

    national = Office.objects.get(code="0")
    assert national.pk == tree["national"].pk
    assert national.name == "中央纪委国家监委"
    assert Office.objects.count() == 44704


@pytest.mark.django_db
def test_it_refuses_a_region_whose_parent_is_missing():
    regions = [Region("0", "中华人民共和国", "", 0), Region("1101", "市辖区", "11", 2)]
    with pytest.raises(RegionTableError, match="1101"):
        offices_load(regions)
    assert Office.objects.count() == 0

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest

from qingfeng.offices.data import build_regions
from qingfeng.offices.regions import (
    CITY,
    COUNTY,
    DATA_FILE,
    NATIONAL,
    PROVINCE,
    SUBDISTRICT,
    Region,
    office_name,
    read_regions,
    region_display_name,
)


def test_the_shipped_table_holds_every_division_down_to_sub_districts():
    regions = list(read_regions(max_level=SUBDISTRICT))
    assert Counter(r.level for r in regions) == {0: 1, 1: 31, 2: 342, 3: 2978, 4: 41352}
    assert len({r.code for r in regions}) == len(regions)
    assert regions[0] == Region(code="0", name="中华人民共和国", parent_code="", level=NATIONAL)


def test_the_shipped_table_lists_parents_before_children():
    seen: set[str] = set()
    for region in read_regions(max_level=SUBDISTRICT):
        assert region.parent_code == "" or region.parent_code in seen
        seen.add(region.code)


def test_read_regions_stops_at_counties_by_default():
    assert max(r.level for r in read_regions()) == COUNTY


def test_the_shipped_table_is_small():
    assert DATA_FILE.stat().st_size < 512 * 1024


@pytest.mark.parametrize(
    ("name", "province", "expected"),
    [
        ("市辖区", "北京市", "北京市市辖区"),
        ("县", "重庆市", "重庆市县"),
        ("省直辖县级行政区划", "河南省", "河南省直辖县级行政区划"),
        ("自治区直辖县级行政区划", "新疆维吾尔自治区", "新疆维吾尔自治区直辖县级行政区划"),
        ("深圳市", "广东省", "深圳市"),
    ],
)
def test_placeholder_city_names_get_their_province_in_front(name, province, expected):
    assert region_display_name(Region("0000", name, "00", CITY), province) == expected


def test_county_names_are_kept_as_published():
    assert region_display_name(Region("110101", "市辖区", "1101", COUNTY), "北京市") == "市辖区"


def test_office_names_follow_the_level():
    assert office_name(NATIONAL, "中华人民共和国") == "中央纪委国家监委"
    assert office_name(PROVINCE, "北京市") == "北京市纪委监委"
    assert office_name(COUNTY, "东城区") == "东城区纪委监委"
    assert office_name(SUBDISTRICT, "东华门街道") == "东华门街道纪工委"


def _write_source(folder: Path) -> None:
    (folder / "cn_provinces.csv").write_text('code,name\n11,"北京市"\n', encoding="utf-8")
    (folder / "cn_cities.csv").write_text('code,name,provinceCode\n1101,"市辖区",11\n', encoding="utf-8")
    (folder / "cn_areas.csv").write_text(
        'code,name,cityCode,provinceCode\n110102,"西城区",1101,11\n110101,"东城区",1101,11\n', encoding="utf-8"
    )
    (folder / "cn_streets.csv").write_text(
        'code,name,areaCode,provinceCode,cityCode\n110101001,"东华门街道",110101,11,1101\n', encoding="utf-8"
    )


def test_the_build_script_writes_a_sorted_reproducible_table(tmp_path):
    _write_source(tmp_path)
    first, second = tmp_path / "a.csv.gz", tmp_path / "b.csv.gz"
    build_regions.main(["--source", str(tmp_path), "--output", str(first)])
    build_regions.main(["--source", str(tmp_path), "--output", str(second)])

    assert first.read_bytes() == second.read_bytes()
    assert gzip.decompress(first.read_bytes()).decode().splitlines() == [
        "code,name,parent_code,level",
        "0,中华人民共和国,,0",
        "11,北京市,0,1",
        "1101,市辖区,11,2",
        "110101,东城区,1101,3",
        "110102,西城区,1101,3",
        "110101001,东华门街道,110101,4",
    ]


def test_the_build_script_refuses_an_orphan(tmp_path):
    _write_source(tmp_path)
    (tmp_path / "cn_streets.csv").write_text(
        'code,name,areaCode,provinceCode,cityCode\n110109001,"某街道",110109,11,1101\n', encoding="utf-8"
    )
    with pytest.raises(SystemExit, match="110109001"):
        build_regions.main(["--source", str(tmp_path), "--output", str(tmp_path / "out.csv.gz")])


@pytest.mark.skipif(not build_regions.DEFAULT_SOURCE.is_dir(), reason="no ../shared/data/regions checkout")
def test_the_shipped_table_matches_a_fresh_build_from_the_shared_data(tmp_path):
    output = tmp_path / "regions.csv.gz"
    build_regions.main(["--output", str(output)])
    assert output.read_bytes() == DATA_FILE.read_bytes()

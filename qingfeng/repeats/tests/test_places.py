from __future__ import annotations

import numpy as np
import pytest

from qingfeng.repeats.places import place_names, places_differ
from qingfeng.repeats.scoring import Query, Verdict, build_query, compare, judge, regions_differ


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "希望有关部门能将A7县安沙镇梅塘村的公路修好",
            {"county": {"A7"}, "city": {"A"}, "town": {"沙"}, "village": {"塘"}},
        ),
        ("投诉Ｋ３县第二中学暑期强制补课", {"county": {"K3"}, "city": {"K"}, "school": {"二"}}),
        ("咨询B市新生儿落地险问题", {"city": {"B"}}),
        (
            "反映雨花区东山街道噪音扰民",
            {"county": {"花"}, "town": {"山"}, "division_county": {"430111"}, "division_city": {"4301"}},
        ),
        ("L10县县青苹果幼儿园占用绿地", {"county": {"L10"}, "city": {"L"}}),
        # Full names are also looked up in the region table: county 430181 of city 4301.
        (
            "投诉浏阳市永安镇",
            {"county": {"阳"}, "town": {"安"}, "division_county": {"430181"}, "division_city": {"4301"}},
        ),
        ("株洲市噪音", {"city": {"洲"}, "division_city": {"4302"}}),
        # A name several divisions share stands for all of them.
        (
            "朝阳区路灯不亮",
            {"county": {"阳"}, "division_county": {"110105", "220104"}, "division_city": {"1101", "2201"}},
        ),
        # Words that end in a suffix character without naming a place.
        ("阳光小区物业乱收费，农村村民反映城市超市夜市问题", {}),
        ("投诉开发区管委会和全县各村干部", {}),
        ("农贸市场占道经营", {}),
        ("他是参议员和市长，以区别于该地区的其他区域", {}),
    ],
)
def test_place_names_are_read_by_level(title: str, expected: dict[str, set[str]]) -> None:
    assert {level: set(names) for level, names in place_names(title).items()} == expected


def test_places_differ_only_when_both_name_a_place_at_the_same_level_and_share_none() -> None:
    k3 = place_names("投诉K3县二中强制高三学生补课")
    assert places_differ(k3, place_names("投诉K8县三中假期强制补课"))
    assert places_differ(k3, place_names("投诉K3县三中假期强制补课"))  # another school in the county
    assert not places_differ(k3, place_names("投诉K3县二中寒假违规收费补课"))
    assert not places_differ(k3, place_names("投诉二中强制补课"))  # no county named: no veto
    assert not places_differ(k3, place_names("咨询K市教育局补课政策"))  # a city is not a county
    assert not places_differ(k3, place_names("学生补课问题"))
    # Different levels are compared through the city a county lies in.
    assert places_differ(place_names("咨询K11县县摩托车驾驶证注销"), place_names("咨询M市摩托车驾驶证注销"))
    assert not places_differ(place_names("咨询K11县县摩托车驾驶证注销"), place_names("咨询K市摩托车驾驶证注销"))
    assert places_differ(place_names("浏阳市永安镇自来水停水"), place_names("株洲市自来水停水"))
    assert not places_differ(place_names("浏阳市永安镇自来水停水"), place_names("长沙市自来水停水"))
    assert places_differ(place_names("浏阳市自来水停水"), place_names("长沙县自来水停水"))  # two counties of 4301
    assert not places_differ(place_names("北京市朝阳区路灯"), place_names("朝阳区路灯"))
    # A one-character county name after different verbs is still the same county.
    assert not places_differ(place_names("投诉易县城管打人"), place_names("反映易县城管打人"))


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def _pair_with_cosine(cos: float) -> tuple[np.ndarray, np.ndarray]:
    a = np.zeros(8, dtype=np.float32)
    a[0] = 1.0
    b = np.zeros(8, dtype=np.float32)
    b[0], b[1] = cos, (1 - cos * cos) ** 0.5
    return _unit(a), _unit(b)


def _judged(q: Query, c: Query) -> Verdict:
    s = compare(q, cand_shingles=None, cand_vector=c.vector, cand_reporter=c.reporter, same_person=False,
                cand_party_keys=(), cand_region=c.region_code, cand_grams=c.cmp_grams,
                cand_title_shingles=c.title_shingles, cand_places=c.places)  # fmt: skip
    return judge(s)


def _verdict(title_a: str, title_b: str, cos: float, description: str = "") -> tuple[bool, list[str]]:
    va, vb = _pair_with_cosine(cos)
    q = build_query(title=title_a, description=description, reporter=None, parties=None, region_code="", vector=va)
    c = build_query(title=title_b, description=description, reporter=None, parties=None, region_code="", vector=vb)
    v = _judged(q, c)
    return v.flag, v.codes


def test_close_meaning_about_another_county_is_listed_not_flagged() -> None:
    # Strangers' complaints about two counties' schools: as close in meaning as a true repeat.
    flag, codes = _verdict("投诉甲县第二中学暑假强制学生补课", "反映乙县二中暑期逼着学生补课", 0.99)
    assert not flag and "other_place" in codes
    # The same county's school in other words is still the same matter.
    flag, codes = _verdict("投诉甲县第二中学暑假强制学生补课", "反映甲县二中暑期逼着学生补课", 0.99)
    assert flag and "other_place" not in codes
    # Near-identical text is flagged on its own (a letter campaign naming each village in turn).
    letter = "村干部把上级拨付的征地补偿款截留挪用，至今没有发到村民手中，请求上级纪委调查处理。"
    flag, codes = _verdict("反映梅塘村干部侵占补偿款", "反映双湾村干部侵占补偿款", 0.99, letter)
    assert flag and "other_place" in codes


@pytest.mark.parametrize(
    ("a", "b", "differ"),
    [
        ("110101", "110102", True),  # two districts of one city
        ("4101", "4102", True),
        ("11", "12", True),
        ("110101", "110101001", False),  # a town of that county
        ("110101001", "110101002", False),  # towns are not compared
        ("1101", "110105", False),  # coded at city level: no finer answer
        ("410000", "410102", False),  # a padded province code
        ("410100", "410102", False),
        ("", "110101", False),
    ],
)
def test_problem_regions_differ_down_to_the_county(a: str, b: str, differ: bool) -> None:
    assert regions_differ(a, b) is differ
    assert regions_differ(b, a) is differ


def test_close_meaning_in_another_county_by_region_code_is_listed_not_flagged() -> None:
    va, vb = _pair_with_cosine(0.99)
    common = {"reporter": None, "parties": None}
    q = build_query(title="投诉学校暑假强制补课", description="", region_code="410102", vector=va, **common)
    c = build_query(title="学校暑期逼学生补课", description="", region_code="410103", vector=vb, **common)
    same = build_query(title="学校暑期逼学生补课", description="", region_code="410102001", vector=vb, **common)

    other = _judged(q, c)
    assert not other.flag and "other_region" in other.codes
    same_county = _judged(q, same)
    assert same_county.flag and "other_region" not in same_county.codes

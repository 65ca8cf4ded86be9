"""Place names in a report's title, to tell one matter from the same kind of matter elsewhere.

Reworded reports by different people about the same kind of problem in different places (two
counties' schools holding holiday classes, two villages' drinking water) embed almost alike:
on the message board such pairs reach cosine 0.95–0.97, as high as true repeats. What tells them
apart is that their titles name different places. So a title's place names are read by level
(city, county, town, village, numbered school) and two titles that both name a place at the same
level, and share none, are about different matters: meaning alone must not flag them.

Only the name right before the level's suffix is taken: an anonymised code ("K3县", "A市") in
full, otherwise the one character before it ("梅塘村" -> "塘"), skipping words that end in a
suffix character without being places (小区, 城市, 农村 …). Without word boundaries a longer
window would take in the verb before a one-character name ("投诉易县", "反映易县"), and a
missed name only means no veto, so the rules lean towards missing.

Titles often name places at different levels ("浏阳市…" against "株洲市…", "K11县…" against
"M市…"), which the one-character names cannot compare. So a city or county named in full is also
looked up in the shipped region table (`offices.regions`) and compared by its division code at
county and city level ("浏阳市" is county 430181 of city 4301); a name that several divisions
share (朝阳区) stands for all of them. An anonymised county code carries its city's letter the
same way ("K11县" lies in "K市").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache

from qingfeng.offices.regions import CITY, COUNTY, PLACEHOLDER_CITY_NAMES, read_regions

# A code standing in for a place name in anonymised text: "K3", "A", "L10".
_CODE = re.compile(r"[A-Z][0-9]{0,2}$")
# An anonymised county code is its city's letter and a number: "K11" lies in "K".
_COUNTY_CODE = re.compile(r"([A-Z])[0-9]{1,2}")
_CJK = re.compile(r"[\u4e00-\u9fff]")

# Characters that are not the end of a place name: words, not places, that end in a suffix
# character (小区, 地区, 城市, 农村 …), and the function words that stand before one ("参议员和
# 市长", "各村", "该县").
_FUNCTION = "的和与及或兼是为在于以从到向对把被这那此其该各每本全某我你他她它们个等两一几多大小"
# level -> (suffix not followed by what makes it another word, characters that end a non-place word)
_LEVELS: dict[str, tuple[str, str]] = {
    "city": (r"市(?![场民长值面委辖])", _FUNCTION + "超城都夜菜门股上开治"),  # 超市 城市 自治市; 市场 市长
    "county": (
        r"县(?![际级])|区(?![别域分间块])",  # 县际, 区别, 区域, 区分
        _FUNCTION
        + "社新城景园发置开辖片街学老市校矿灾禁保军战湖库专特牧林厂工商住宅外邻贫郊地山教选政治功示游风居业港",
    ),
    "town": (r"镇(?![压定静痛守])|街道", _FUNCTION + "城乡集古重市"),
    "village": (r"村(?![民委庄落])", _FUNCTION + "农乡山邻城渔牧新"),
}
_SUFFIX = re.compile("|".join(f"(?P<{level}>{pattern})" for level, (pattern, _bad) in _LEVELS.items()))
# 一中, 二中, 第三中学, 十一小: numbered schools (二中 and 三中 are different schools).
_SCHOOL = re.compile(r"第?([一二三四五六七八九十0-9]{1,3})(?:中学?|小学?)(?!学生)")

Places = Mapping[str, frozenset[str]]

# Two-character division names (和县, 城区, 东区, 新县 …) are mostly also common words; the
# one-character rule above covers them. Longer names are looked up whole.
_MIN_NAME = 3


@cache
def _divisions() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """Full city and county names by their last two characters ("阳市" -> (("浏阳市", codes) …)),
    longest first, so a title is looked up only where a name could end."""
    codes: dict[str, list[str]] = {}
    for region in read_regions(max_level=COUNTY):
        full_name = len(region.name) >= _MIN_NAME and region.name not in PLACEHOLDER_CITY_NAMES
        if region.level in (CITY, COUNTY) and full_name:
            codes.setdefault(region.name, []).append(region.code)
    by_end: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for name, c in codes.items():
        by_end.setdefault(name[-2:], []).append((name, tuple(c)))
    return {end: tuple(sorted(named, key=lambda n: -len(n[0]))) for end, named in by_end.items()}


def _division_codes(text: str, suffix_at: int, found: dict[str, set[str]]) -> str:
    """Add the division codes of the longest full name that ends with the suffix at `suffix_at`;
    return "county" when that name is only a county's (浏阳市 is a city by name, a county by rank)."""
    end = suffix_at + 1
    for name, codes in _divisions().get(text[end - 2 : end], ()):
        if end >= len(name) and text.startswith(name, end - len(name)):
            for code in codes:
                if len(code) == 6:  # a county: also its city
                    found.setdefault("division_county", set()).add(code)
                found.setdefault("division_city", set()).add(code[:4])
            return "county" if all(len(code) == 6 for code in codes) else ""
    return ""


def place_names(title: str) -> Places:
    """{level: names} of the places a title names."""
    text = unicodedata.normalize("NFKC", title or "").upper()
    found: dict[str, set[str]] = {}
    prev_end = 0
    for m in _SUFFIX.finditer(text):
        level = m.lastgroup or ""
        if level in ("city", "county") and _division_codes(text, m.start(), found) == "county":
            level = "county"
        before = text[prev_end : m.start()]
        code = _CODE.search(before)
        if code:
            name = code.group(0)
            county = _COUNTY_CODE.fullmatch(name) if level == "county" else None
            if county:
                found.setdefault("city", set()).add(county.group(1))
        else:
            name = before[-1:]
            if not _CJK.match(name) or name in _LEVELS[level][1]:
                continue
        found.setdefault(level, set()).add(name)
        prev_end = m.end()
    for m in _SCHOOL.finditer(text):
        found.setdefault("school", set()).add(m.group(1))
    return {level: frozenset(names) for level, names in found.items()}


def places_differ(a: Places, b: Places) -> bool:
    """Both name a place at some level, and none of the same: different matters."""
    return any(names and b.get(level) and not (names & b[level]) for level, names in a.items())

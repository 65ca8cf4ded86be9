"""Regions the reporter can choose (province → city → county) and the office that receives a report.

The choices come from the region table shipped with Qingfeng (offices/data/regions.csv.gz),
read once per process: 31 provinces, 342 cities and 2,978 counties.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from qingfeng.offices.models import Office
from qingfeng.offices.regions import CITY, COUNTY, PROVINCE, read_regions, region_display_name


@dataclass(frozen=True)
class RegionChoice:
    code: str
    name: str  # the display name (placeholder city names carry their province)
    short_name: str  # as published, for the select under its parent
    parent_code: str
    level: int


@dataclass(frozen=True)
class RegionTable:
    by_code: dict[str, RegionChoice]
    children: dict[str, tuple[RegionChoice, ...]]


@lru_cache(maxsize=1)
def region_table() -> RegionTable:
    by_code: dict[str, RegionChoice] = {}
    children: dict[str, list[RegionChoice]] = {}
    provinces: dict[str, str] = {}
    for region in read_regions(max_level=COUNTY):
        if region.level == PROVINCE:
            provinces[region.code] = region.name
        if region.level < PROVINCE:
            continue
        province_name = provinces.get(region.code[:2], "")
        choice = RegionChoice(
            code=region.code,
            name=region_display_name(region, province_name),
            short_name=region.name,
            parent_code=region.parent_code if region.level > PROVINCE else "",
            level=region.level,
        )
        by_code[choice.code] = choice
        children.setdefault(choice.parent_code, []).append(choice)
    return RegionTable(by_code=by_code, children={k: tuple(v) for k, v in children.items()})


def provinces() -> tuple[RegionChoice, ...]:
    return region_table().children.get("", ())


def children_of(code: str) -> tuple[RegionChoice, ...]:
    if not code:
        return ()
    return region_table().children.get(code, ())


def get(code: str) -> RegionChoice | None:
    return region_table().by_code.get(code or "")


def resolve(province: str, city: str = "", county: str = "") -> tuple[str, dict[str, str]]:
    """The most specific valid code of a province/city/county choice, and errors by field.

    A city must lie in the province and a county in the city.
    """
    errors: dict[str, str] = {}
    p = get(province)
    if p is None or p.level != PROVINCE:
        errors["region_province"] = "unknown"
        return "", errors
    code = p.code
    if city:
        c = get(city)
        if c is None or c.level != CITY or c.parent_code != p.code:
            errors["region_city"] = "mismatch"
            return code, errors
        code = c.code
        if county:
            k = get(county)
            if k is None or k.level != COUNTY or k.parent_code != c.code:
                errors["region_county"] = "mismatch"
                return code, errors
            code = k.code
    elif county:
        errors["region_city"] = "missing"
    return code, errors


def receiving_office(region_code: str) -> Office | None:
    """The office of the most specific region given, else of its nearest enclosing region with an
    office, else the national office. None only when no office is loaded at all."""
    candidates = [region_code[:n] for n in (9, 6, 4, 2) if len(region_code) >= n]
    if candidates:
        by_region = {o.region_code: o for o in Office.objects.filter(region_code__in=candidates).order_by("level")}
        for code in candidates:
            if code in by_region:
                return by_region[code]
    return Office.objects.filter(level=Office.Level.NATIONAL).order_by("id").first()

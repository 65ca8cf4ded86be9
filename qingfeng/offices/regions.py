"""The region table shipped with Qingfeng and the office names derived from it.

`data/regions.csv.gz` holds every administrative division (GB/T 2260 codes down to
sub-districts) as ``code,name,parent_code,level``; `data/build_regions.py` regenerates it.
Names in the table are the published ones. Some published city-level names are placeholders
that only make sense under their province ("市辖区", "县", "省直辖县级行政区划"), so the
region's display name prefixes them with the province name: 北京市 + 市辖区 → 北京市市辖区.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "regions.csv.gz"

NATIONAL_CODE = "0"
NATIONAL_OFFICE_NAME = "中央纪委国家监委"
# Published city-level names that are not names of a place on their own.
PLACEHOLDER_CITY_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

# Level numbers match `Office.Level`; kept here so the table can be read without Django.
NATIONAL, PROVINCE, CITY, COUNTY, SUBDISTRICT = range(5)


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str  # as published
    parent_code: str  # "" for the nation
    level: int


def read_regions(*, max_level: int = COUNTY, data_file: Path = DATA_FILE) -> Iterator[Region]:
    """Regions from the shipped table, parents before children (the file is ordered by level)."""
    with gzip.open(data_file, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        for row in csv.DictReader(text):
            level = int(row["level"])
            if level <= max_level:
                yield Region(code=row["code"], name=row["name"], parent_code=row["parent_code"], level=level)


def region_display_name(region: Region, province_name: str) -> str:
    """The name people use for the region; placeholder city names get their province in front."""
    if region.level != CITY or region.name not in PLACEHOLDER_CITY_NAMES:
        return region.name
    # 河南省 + 省直辖县级行政区划 → 河南省直辖县级行政区划, not 河南省省直辖…
    for suffix in ("自治区", "省"):
        if province_name.endswith(suffix) and region.name.startswith(suffix):
            return province_name + region.name[len(suffix) :]
    return province_name + region.name


def office_name(level: int, region_name: str) -> str:
    """The commission office's name: 中央纪委国家监委, 北京市纪委监委, 东华门街道纪工委."""
    if level == NATIONAL:
        return NATIONAL_OFFICE_NAME
    if level == SUBDISTRICT:
        return f"{region_name}纪工委"
    return f"{region_name}纪委监委"

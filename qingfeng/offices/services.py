"""Writes to the office tree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from qingfeng.offices.models import Office
from qingfeng.offices.regions import PROVINCE, Region, office_name, region_display_name

LOAD_BATCH_SIZE = 2000
_SYNCED_FIELDS = ("name", "region_name", "level", "parent_id", "path", "region_code")


class RegionTableError(ValueError):
    pass


@dataclass
class LevelCounts:
    regions: int = 0
    created: int = 0
    updated: int = 0


@transaction.atomic
def offices_load(regions: Iterable[Region], *, batch_size: int = LOAD_BATCH_SIZE) -> dict[int, LevelCounts]:
    """Create or update one office per region; returns counts per level.

    Idempotent: an office is found by its code, so loading the same table twice creates nothing
    and updates nothing; a renamed region renames its office. Offices are never deleted here
    (cases point at them). `regions` must list parents before children, as `read_regions` does.
    Each level is written with one bulk insert and one bulk update, so 44,000 offices take
    seconds, not minutes.
    """
    existing: dict[str, tuple] = {
        row[0]: row[1:] for row in Office.objects.values_list("code", "pk", *_SYNCED_FIELDS).iterator(chunk_size=5000)
    }
    pk_of = {code: row[0] for code, row in existing.items()}
    path_of: dict[str, str] = {}
    region_name_of: dict[str, str] = {}
    counts: dict[int, LevelCounts] = {}

    by_level: dict[int, list[Region]] = {}
    for region in regions:
        by_level.setdefault(region.level, []).append(region)

    for level in sorted(by_level):
        to_create: list[Office] = []
        to_update: list[Office] = []
        for region in by_level[level]:
            parent_pk = None
            parent_path = "/"
            province_name = ""
            if region.parent_code:
                if region.parent_code not in path_of:
                    raise RegionTableError(f"region {region.code}: parent {region.parent_code} is not in the table")
                parent_pk = pk_of[region.parent_code]
                parent_path = path_of[region.parent_code]
                province_name = region_name_of[region.parent_code] if level - 1 == PROVINCE else ""
            display = region_display_name(region, province_name)
            path = f"{parent_path}{region.code}/"
            path_of[region.code] = path
            region_name_of[region.code] = display
            values = (office_name(region.level, display), display, region.level, parent_pk, path, region.code)

            old = existing.get(region.code)
            if old is None:
                to_create.append(Office(code=region.code, **dict(zip(_SYNCED_FIELDS, values, strict=True))))
            elif old[1:] != values:
                to_update.append(Office(pk=old[0], code=region.code, **dict(zip(_SYNCED_FIELDS, values, strict=True))))

        created = Office.objects.bulk_create(to_create, batch_size=batch_size)
        if any(office.pk is None for office in created):  # a backend that cannot return ids
            pk_of.update(Office.objects.filter(level=level).values_list("code", "pk"))
        else:
            pk_of.update((office.code, office.pk) for office in created)
        if to_update:
            Office.objects.bulk_update(to_update, list(_SYNCED_FIELDS), batch_size=batch_size // 4)
        counts[level] = LevelCounts(regions=len(by_level[level]), created=len(created), updated=len(to_update))
    return counts

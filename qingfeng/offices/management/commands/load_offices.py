"""`manage.py load_offices [--with-subdistricts]`: one commission office per region."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qingfeng.offices.models import Office
from qingfeng.offices.regions import COUNTY, SUBDISTRICT, read_regions
from qingfeng.offices.services import LOAD_BATCH_SIZE, RegionTableError, offices_load


class Command(BaseCommand):
    help = (
        "Create or update the office tree from the region table shipped with Qingfeng: the national office, "
        "31 provinces, 342 cities and 2,978 counties; add the 41,352 sub-districts with --with-subdistricts. "
        "Safe to run again: existing offices are matched by code and only renamed or re-parented."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--with-subdistricts", action="store_true", help="also load sub-district (街道/乡镇) offices"
        )
        parser.add_argument("--batch-size", type=int, default=LOAD_BATCH_SIZE, help="rows per INSERT")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        max_level = SUBDISTRICT if options["with_subdistricts"] else COUNTY
        try:
            counts = offices_load(read_regions(max_level=max_level), batch_size=options["batch_size"])
        except RegionTableError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started

        self.stdout.write(f"{'level':<14}{'regions':>9}{'created':>9}{'updated':>9}")
        for level, c in counts.items():
            self.stdout.write(f"{Office.Level(level).name.lower():<14}{c.regions:>9,}{c.created:>9,}{c.updated:>9,}")
        total_regions = sum(c.regions for c in counts.values())
        created = sum(c.created for c in counts.values())
        updated = sum(c.updated for c in counts.values())
        self.stdout.write(f"{'total':<14}{total_regions:>9,}{created:>9,}{updated:>9,}")
        self.stdout.write(self.style.SUCCESS(f"{Office.objects.count():,} offices in the database ({elapsed:.1f}s)"))

"""`manage.py generate_cases --count N`: bulk synthetic cases for demos and benchmarks."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from qingfeng.intake.synthetic import generate_cases, restore_secondary_indexes
from qingfeng.intake.textgen import SHARED_FILE, shared_complaints_dir
from qingfeng.offices.models import Office


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date: use YYYY-MM-DD") from exc


class Command(BaseCommand):
    help = (
        "Create N realistic synthetic cases (with access rows, reporters, reported parties and timeline events) "
        "for demos and benchmarks. Texts come from ../shared/data/complaints when it exists, else from Qingfeng's "
        "own generator. Needs offices: run `manage.py load_offices` first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, help="number of cases to create")
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--offices", help="comma-separated office codes that receive the cases")
        where.add_argument("--under", help="an office code: every county-level office in its subtree")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
        parser.add_argument("--start", help="first day received, YYYY-MM-DD (default: two years ago)")
        parser.add_argument("--end", help="last day received, YYYY-MM-DD (default: today)")
        parser.add_argument("--batch-size", type=int, default=20000, help="cases per transaction")
        parser.add_argument(
            "--no-shared-texts", action="store_true", help="use the built-in text generator even if shared data exists"
        )
        parser.add_argument(
            "--indexes",
            choices=("auto", "rebuild", "keep"),
            default="auto",
            help="drop the secondary indexes for the load and rebuild them after it (rebuild), leave them (keep), "
            "or rebuild when the load is at least half the size of the cases already there (auto, the default)",
        )
        parser.add_argument(
            "--restore-indexes",
            action="store_true",
            help="only rebuild indexes that an interrupted earlier load left dropped, then stop",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["restore_indexes"]:
            started = time.perf_counter()
            rebuilt = restore_secondary_indexes()
            self.stdout.write(
                f"Rebuilt {len(rebuilt)} index(es) in {time.perf_counter() - started:.1f}s"
                if rebuilt
                else "No index was left dropped."
            )
            return
        count = options["count"]
        if count is None:
            raise CommandError("--count is required")
        if count <= 0:
            raise CommandError("--count must be a positive number")
        today = timezone.localdate()
        end = _date(options["end"]) if options["end"] else today
        start = _date(options["start"]) if options["start"] else end - timedelta(days=730)
        if end < start:
            raise CommandError("--end is before --start")
        offices = self._offices(options)
        use_shared = not options["no_shared_texts"]
        shared = use_shared and (shared_complaints_dir() / SHARED_FILE).is_file()
        self.stdout.write(
            f"Generating {count:,} cases for {len(offices):,} offices, received {start} to {end}, "
            f"on {connection.vendor}; texts from "
            + ("the shared message board" if shared else "the built-in generator")
        )
        started = time.perf_counter()
        last = [started]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if done < total and now - last[0] < 2:
                return
            last[0] = now
            elapsed = now - started
            self.stdout.write(f"  {done:>12,} / {total:,}  {done / elapsed:>9,.0f} cases/s  {elapsed:7.1f}s")

        try:
            created = generate_cases(
                count=count,
                offices=offices,
                seed=options["seed"],
                start=start,
                end=end,
                batch_size=max(1, options["batch_size"]),
                use_shared_texts=use_shared,
                progress=progress,
                indexes=options["indexes"],
                note=lambda message: self.stdout.write(f"  {message} ({time.perf_counter() - started:.1f}s)"),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {created:,} cases in {elapsed:.1f}s ({created / max(elapsed, 1e-9):,.0f} cases/s)"
            )
        )

    def _offices(self, options: dict[str, Any]) -> list[Office]:
        if not Office.objects.exists():
            raise CommandError("There are no offices yet: run `manage.py load_offices` first.")
        if options["offices"]:
            codes = [c.strip() for c in options["offices"].split(",") if c.strip()]
            offices = list(Office.objects.filter(code__in=codes))
            unknown = sorted(set(codes) - {o.code for o in offices})
            if unknown:
                raise CommandError(f"No office has the code(s): {', '.join(unknown)}")
            return offices
        if options["under"]:
            root = Office.objects.filter(code=options["under"]).first()
            if root is None:
                raise CommandError(f"No office has the code {options['under']}")
            offices = list(Office.objects.filter(path__startswith=root.path, level=Office.Level.COUNTY))
            if not offices:
                offices = [root]  # a county, or a subtree without counties: that office itself
            return offices
        offices = list(Office.objects.filter(level=Office.Level.COUNTY))
        if not offices:
            raise CommandError("There are no county-level offices: run `manage.py load_offices` first.")
        return offices

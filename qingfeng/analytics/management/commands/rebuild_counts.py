"""`manage.py rebuild_counts`: recompute every analytics count table from the cases and their events."""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from qingfeng.analytics.counting import can_fork_workers, rebuild_counts


class Command(BaseCommand):
    help = (
        "Rebuild the analytics count tables from the cases and their events (after bulk loads such as "
        "generate_cases or import_reports, or to repair them). Gives the same rows as the incremental updates."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers",
            type=int,
            default=min(4, os.cpu_count() or 1),
            help="processes that sum the cases on PostgreSQL (default: the cores, at most 4); SQLite uses one",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        last = [started]

        def progress(done: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= 5:
                last[0] = now
                self.stdout.write(f"  {done:>12,} cases summed  {now - started:7.1f}s")

        workers = max(1, options["workers"])
        if workers > 1 and can_fork_workers():
            self.stdout.write(f"  summing in {workers} processes")
        written = rebuild_counts(progress=progress, workers=workers)
        elapsed = time.perf_counter() - started
        for table, n in written.items():
            self.stdout.write(f"  {table:<10} {n:>12,} rows")
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {sum(written.values()):,} count rows in {elapsed:.1f}s"))

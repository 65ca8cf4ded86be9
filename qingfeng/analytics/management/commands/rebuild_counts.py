"""`manage.py rebuild_counts`: recompute every analytics count table from the cases and their events."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from qingfeng.analytics.counting import rebuild_counts


class Command(BaseCommand):
    help = (
        "Rebuild the analytics count tables from the cases and their events (after bulk loads such as "
        "generate_cases or import_reports, or to repair them). Gives the same rows as the incremental updates."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        last = [started]

        def progress(done: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= 5:
                last[0] = now
                self.stdout.write(f"  {done:>12,} cases read  {now - started:7.1f}s")

        written = rebuild_counts(progress=progress)
        elapsed = time.perf_counter() - started
        for table, n in written.items():
            self.stdout.write(f"  {table:<10} {n:>12,} rows")
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {sum(written.values()):,} count rows in {elapsed:.1f}s"))

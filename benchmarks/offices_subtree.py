"""Benchmark `office_subtree` on the full office tree (44,704 offices).

    .venv/bin/python benchmarks/offices_subtree.py                    # a temporary SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_offices \\
        .venv/bin/python benchmarks/offices_subtree.py                # an existing, disposable database

Migrates the offices app into the database given by DATABASE_URL (default: a SQLite file in a
temporary folder, removed afterwards), loads every office with `load_offices --with-subdistricts`
(timing a first and a repeat load), then for the national office and the largest province,
city and county it times, over --iterations runs each:

  count  office_subtree(office).count()
  ids    list(office_subtree(office).values_list("pk", flat=True))  -- what a "my cases" filter needs
  page   the first 20 offices with their parent, as the subtree API endpoint reads them

and prints p50/p95 in milliseconds. "Largest" is the biggest subtree at that level.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any], iterations: int) -> tuple[float, float, Any]:
    result = fn()  # warm-up
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile(samples, 95), result


def main() -> int:
    parser = argparse.ArgumentParser(description="Time office_subtree on the full office tree.")
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()

    tmp = None
    if not os.environ.get("DATABASE_URL"):
        tmp = tempfile.TemporaryDirectory(prefix="qingfeng-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/offices.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qingfeng.settings")

    import django

    django.setup()

    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    from qingfeng.offices.models import Office
    from qingfeng.offices.selectors import office_subtree

    try:
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        call_command("migrate", "offices", verbosity=0)
        for label in ("first load", "repeat load"):
            started = time.perf_counter()
            call_command("load_offices", "--with-subdistricts", stdout=StringIO())
            print(f"{label}: {time.perf_counter() - started:.2f}s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Office._meta.db_table}")
        print(f"offices: {Office.objects.count():,}")

        # Subtree size of every office: each path counts once for every code on it.
        sizes = Counter(
            code for path in Office.objects.values_list("path", flat=True) for code in path.strip("/").split("/")
        )
        level_of = dict(Office.objects.values_list("code", "level"))

        def largest(level: int) -> Office:
            code = max((c for c in sizes if level_of[c] == level), key=lambda c: (sizes[c], c))
            return Office.objects.get(code=code)

        targets = [largest(level) for level in (0, 1, 2, 3)]
        print(f"iterations: {args.iterations}; times in ms")
        print(f"{'office':<20}{'size':>7}  {'count p50/p95':>15}  {'ids p50/p95':>15}  {'page p50/p95':>15}  region")
        for office in targets:
            figures = []
            for fn in (
                lambda o=office: office_subtree(o).count(),
                lambda o=office: list(office_subtree(o).values_list("pk", flat=True)),
                lambda o=office: list(office_subtree(o).select_related("parent")[:20]),
            ):
                p50, p95, _ = timed(fn, args.iterations)
                figures.append(f"{p50:7.2f}/{p95:7.2f}")
            size = office_subtree(office).count()
            label = f"{Office.Level(office.level).name.lower()} {office.code}"
            print(f"{label:<20}{size:>7}  " + "  ".join(f"{f:>15}" for f in figures) + f"  {office.region_name}")
    finally:
        connection.close()
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

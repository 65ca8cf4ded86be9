"""Working-day arithmetic over a Monday–Friday week with holiday exceptions.

Exceptions (public holidays and adjusted workdays, 调休) live in the CalendarDay table,
filled from data/cn_holidays.csv by a data migration and editable by administrators.
They are cached per process for a minute, and dropped at once when this process edits them.
"""

from __future__ import annotations

import calendar as _cal
import csv
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "cn_holidays.csv"
_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class Exceptions:
    holidays: frozenset[date]
    workdays: frozenset[date]


_cache: tuple[float, Exceptions] | None = None


def read_calendar_file(path: Path = DATA_FILE) -> list[tuple[date, str, str]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        lines = (line for line in fh if line.strip() and not line.startswith("#"))
        for row in csv.DictReader(lines):
            rows.append((date.fromisoformat(row["date"]), row["kind"], row.get("name", "")))
    return rows


def invalidate() -> None:
    global _cache
    _cache = None


def exceptions() -> Exceptions:
    global _cache
    now = time.monotonic()
    if _cache is not None and now - _cache[0] < _TTL_SECONDS:
        return _cache[1]
    from qingfeng.deadlines.models import CalendarDay

    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, kind in CalendarDay.objects.values_list("date", "kind"):
        (holidays if kind == CalendarDay.Kind.HOLIDAY else workdays).add(day)
    result = Exceptions(frozenset(holidays), frozenset(workdays))
    _cache = (now, result)
    return result


def is_working_day(day: date, exc: Exceptions | None = None) -> bool:
    exc = exc or exceptions()
    if day in exc.workdays:
        return True
    if day in exc.holidays:
        return False
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (the start day itself is not counted).

    Negative `days` counts backwards; 0 returns `start` moved forward to a working day.
    """
    exc = exceptions()
    current = start
    if days == 0:
        while not is_working_day(current, exc):
            current += timedelta(days=1)
        return current
    step = timedelta(days=1 if days > 0 else -1)
    remaining = abs(days)
    while remaining:
        current += step
        if is_working_day(current, exc):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative when end is before start."""
    if end == start:
        return 0
    exc = exceptions()
    sign = 1 if end > start else -1
    lo, hi = (start, end) if sign > 0 else (end, start)
    count = 0
    current = lo
    while current < hi:
        current += timedelta(days=1)
        if is_working_day(current, exc):
            count += 1
    return sign * count


def add_months(start: date, months: int) -> date:
    """Same day `months` later (clamped to month end), moved forward to a working day."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, _cal.monthrange(year, month)[1])
    return add_working_days(date(year, month, day), 0)

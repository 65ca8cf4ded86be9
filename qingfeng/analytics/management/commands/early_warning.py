"""`manage.py early_warning --date YYYY-MM-DD`: the daily early-warning check as of a date."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qingfeng.analytics.alerts import run_early_warning


class Command(BaseCommand):
    help = (
        "Test every (office subtree × problem category or key area) series for unusually high recent counts, "
        "and flag reported parties named by several reporters. Prints each warning raised as one JSON line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="check as of this day, YYYY-MM-DD (default: yesterday, the last whole day)")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = None
        if options["date"]:
            try:
                as_of = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"{options['date']!r} is not a date: use YYYY-MM-DD") from exc
        for raised in run_early_warning(as_of=as_of):
            self.stdout.write(json.dumps(raised.as_json(), ensure_ascii=False))

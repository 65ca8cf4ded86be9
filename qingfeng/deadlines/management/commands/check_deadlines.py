from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from qingfeng.deadlines.services import check_deadlines


class Command(BaseCommand):
    help = "Flag cases whose deadlines are due soon or overdue and notify the responsible office."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--date", help="Check as of this date (YYYY-MM-DD); default today.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date must be YYYY-MM-DD, got {options['date']!r}") from exc
        counts = check_deadlines(today=today)
        self.stdout.write(
            f"due soon: {counts['warn']}, overdue: {counts['overdue']}, seriously overdue: {counts['serious']}"
        )

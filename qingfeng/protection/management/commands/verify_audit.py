"""Walk the audit log's hash chain; exit non-zero at the first broken entry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from qingfeng.protection.audit import verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and report the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, problem = verify()
        if problem is not None:
            raise CommandError(
                f"Audit chain broken at entry {problem.sequence}: {problem.message} ({checked} ok before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} entries."))

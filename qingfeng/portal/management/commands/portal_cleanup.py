"""`manage.py portal_cleanup`: erase expired copies of receipt codes and old throttle windows.

Safe to run at any time; schedule it hourly (cron, or the Celery task qingfeng.portal.tasks.portal_cleanup_task).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qingfeng.portal.tasks import portal_cleanup


class Command(BaseCommand):
    help = "Erase receipt codes kept past their retry window and throttle counters no rule reads any more."

    def handle(self, *args: Any, **options: Any) -> None:
        result = portal_cleanup()
        self.stdout.write(f"erased {result['codes_erased']} kept codes, deleted {result['counters_deleted']} counters")

from __future__ import annotations

from celery import shared_task

from qingfeng.portal import throttling
from qingfeng.portal.services import receipts_erase_expired


def portal_cleanup() -> dict[str, int]:
    return {"codes_erased": receipts_erase_expired(), "counters_deleted": throttling.purge()}


@shared_task(name="qingfeng.portal.tasks.portal_cleanup_task")
def portal_cleanup_task() -> dict[str, int]:
    return portal_cleanup()

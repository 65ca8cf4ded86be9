from __future__ import annotations

from celery import shared_task

from qingfeng.deadlines.services import check_deadlines


@shared_task(name="qingfeng.deadlines.tasks.check_deadlines_task")
def check_deadlines_task() -> dict[str, int]:
    return check_deadlines()

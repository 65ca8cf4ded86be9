"""Dispatching background work without ever losing it.

`dispatch` sends a task after the current transaction commits. If the broker is
down, the task runs in-process instead: slower, but nothing acknowledged is lost.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)


def _send(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        task.apply(args=args, kwargs=kwargs, throw=True)
        return
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=False)
    except Exception:  # broker unreachable: run it here rather than drop it
        log.warning("broker unavailable, running %s in-process", task.name, exc_info=True)
        task.apply(args=args, kwargs=kwargs, throw=True)


def dispatch(task: Task, *args: Any, **kwargs: Any) -> None:
    transaction.on_commit(lambda: _send(task, args, kwargs))

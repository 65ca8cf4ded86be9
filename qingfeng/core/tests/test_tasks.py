"""Background work is never lost: eager by default, in-process when the broker is down."""

from __future__ import annotations

import pytest
from celery import shared_task
from django.db import transaction

from qingfeng.core import tasks

RAN: list[int] = []


@shared_task(name="qingfeng.core.tests.record")
def record(value: int) -> int:
    RAN.append(value)
    return value


@pytest.fixture(autouse=True)
def _clear() -> None:
    RAN.clear()


@pytest.mark.django_db(transaction=True)
def test_dispatch_runs_after_commit_in_eager_mode():
    with transaction.atomic():
        tasks.dispatch(record, 1)
        assert RAN == []  # not before the data it needs is committed
    assert RAN == [1]


@pytest.mark.django_db(transaction=True)
def test_dispatch_is_dropped_with_a_rolled_back_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.dispatch(record, 2)
        raise RuntimeError
    assert RAN == []


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_in_process_when_the_broker_is_down(settings):
    from qingfeng.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    old = app.conf.broker_url, app.conf.task_always_eager
    # Nothing listens on this port: publishing fails at once.
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app.conf.task_always_eager = False
    try:
        with transaction.atomic():
            tasks.dispatch(record, 3)
    finally:
        app.conf.broker_url, app.conf.task_always_eager = old
    assert RAN == [3]

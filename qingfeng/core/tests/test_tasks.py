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
    from celery import Celery

    settings.CELERY_TASK_ALWAYS_EAGER = False
    # A separate app whose broker nothing listens on: publishing fails at once.
    app = Celery("down", broker="redis://127.0.0.1:1/0", set_as_current=False)
    app.conf.broker_connection_retry = False
    app.conf.broker_transport_options = {"max_retries": 0}

    @app.task(name="qingfeng.core.tests.record_down")
    def record_down(value: int) -> int:
        RAN.append(value)
        return value

    with transaction.atomic():
        tasks.dispatch(record_down, 3)
    assert RAN == [3]

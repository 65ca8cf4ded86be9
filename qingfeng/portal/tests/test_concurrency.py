from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from qingfeng.cases.models import Case
from qingfeng.portal import services
from qingfeng.portal.models import PortalSubmission
from qingfeng.portal.tests.conftest import DESCRIPTION

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_simultaneous_posts_with_one_token_file_one_case(tree):
    """A double click sends both requests at once: the second waits on the token's unique index, then
    gets the first one's receipt, code included."""
    barrier = threading.Barrier(4)
    results: list[Any] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait()
            results.append(
                services.report_submit(
                    data=services.ReportInput(
                        anonymous=True,
                        title="同时提交",
                        description=DESCRIPTION,
                        region_code="110101",
                        party_name="李四",
                    ),
                    token="double-click-token-000000",
                    via="form",
                    client="127.0.0.1",
                )
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert Case.objects.count() == 1 and PortalSubmission.objects.count() == 1
    assert len({r.case_number for r in results}) == 1
    assert len({r.code for r in results}) == 1  # every answer can show the same code
    assert sum(1 for r in results if not r.duplicate) == 1

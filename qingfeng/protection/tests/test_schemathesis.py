"""Property-based API check (schemathesis): no operation answers with a server error.

Loads /api/schema/ from the Django WSGI app, signs in with a staff token, and sends a few
generated requests (5 per operation) to every operation in the schema: the staff API, and
the portal API when it is mounted. (schemathesis' own pytest plugin does not work with this
pytest version, so the operations are driven through hypothesis directly.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qingfeng.accounts.models import Role

EXAMPLES_PER_OPERATION = 5


@pytest.fixture
def keep_test_connection() -> Any:
    """Like django.test.Client: the test's connection (and transaction) must outlive each WSGI request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_no_api_operation_answers_with_a_server_error(
    keep_test_connection: Any, tree: Any, make_user: Any, register: Any
) -> None:
    from django.core.wsgi import get_wsgi_application
    from rest_framework.authtoken.models import Token

    user = make_user(tree["county"], Role.INTAKE_CLERK, Role.PETITION_HEAD, Role.HANDLER, Role.LEADER)
    case = register("county", actor=user)  # something real to read and act on
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    failures: list[str] = []
    statuses: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    def runner(operation: Any) -> Any:
        @given(data=st.data())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(data: Any) -> None:
            generated = data.draw(operation.as_strategy())
            if "number" in (generated.path_parameters or {}) and data.draw(st.booleans()):
                generated.path_parameters["number"] = case.number  # reach past the 404 sometimes
            try:
                response = generated.call_and_validate(headers=headers, checks=[schemathesis.checks.not_a_server_error])
                statuses.append(response.status_code)
            except Exception as exc:
                failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:300]}")
                raise

        return run

    for operation in operations:
        _run_one(operation, runner, failures)
    assert not failures, "\n".join(failures)
    assert len(statuses) >= len(operations) and any(200 <= s < 300 for s in statuses)


def _run_one(operation: Any, runner: Any, failures: list[str]) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    try:
        runner(operation)()
    except Exception as exc:
        if not failures or not failures[-1].startswith(f"{label}:"):
            failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:300]}")

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from qingfeng.accounts.models import User


@pytest.fixture
def browser_client() -> Callable[[User | None], Client]:
    """A Django test client signed in as the user (Chinese unless a test switches language)."""

    def make(user: User | None = None, *, language: str | None = None) -> Client:
        c = Client(headers={"Accept-Language": language} if language else {})
        if user is not None:
            c.force_login(user)
        return c

    return make


@pytest.fixture
def clerk(tree: dict[str, Any], make_user: Callable[..., User]) -> User:
    from qingfeng.accounts.models import Role

    return make_user(tree["county"], Role.INTAKE_CLERK, username="clerk")

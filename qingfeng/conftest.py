from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from qingfeng.accounts.models import Role, User
from qingfeng.factories import UserFactory, make_office
from qingfeng.offices.models import Office

# Browser fixtures (chromium, page, server_url …) for every app's browser tests.
pytest_plugins = ["qingfeng.web.tests.browser"]

ALL_ROLES = [r.value for r in Role]
WORK_ROLES = [Role.INTAKE_CLERK, Role.PETITION_HEAD, Role.HANDLER, Role.DEPARTMENT_HEAD, Role.LEADER]


STRICT = os.environ.get("QINGFENG_CI_STRICT") == "1"
_skipped: list[str] = []


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    from django.conf import settings

    chromium = shutil.which("chromium") or os.path.exists("/usr/bin/chromium")
    if STRICT:
        # CI runs each database's own tests in that database's pass; leaving them out is not a skip.
        other = "sqlite" if settings.IS_POSTGRES else "postgres"
        deselected = [i for i in items if other in i.keywords]
        items[:] = [i for i in items if other not in i.keywords]
        config.hook.pytest_deselected(items=deselected)
    for item in items:
        if "browser" in item.keywords and not chromium:
            item.add_marker(
                pytest.mark.skip(reason="Chromium is not installed (/usr/bin/chromium); `.ci/run` installs it")
            )
        if "sqlite" in item.keywords and settings.IS_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="checks SQLite's query plan"))
        if "postgres" in item.keywords and not settings.IS_POSTGRES:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://… (`.ci/run` does)")
            )


def pytest_runtest_logreport(report: Any) -> None:
    if STRICT and report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if STRICT and _skipped:
        print(f"\nQINGFENG_CI_STRICT: {len(_skipped)} test(s) skipped, which CI does not allow:")
        for nodeid in _skipped:
            print("  ", nodeid)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _fresh_caches() -> Any:
    """Per-process caches must not leak rows that a test's rollback removed."""
    from qingfeng.deadlines import calendar, rules

    calendar.invalidate()
    rules.invalidate()
    yield
    calendar.invalidate()
    rules.invalidate()


SEEDING_MIGRATIONS = (
    "qingfeng.cases.migrations.0003_default_categories_tags",
    "qingfeng.deadlines.migrations.0002_load_cn_holidays",
)


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request: Any) -> None:
    """A transactional test's flush empties what the migrations seeded; put it back (idempotent).

    Used instead of serialized_rollback, which clashes with content types in mixed runs.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        transactional = True
    if not transactional:
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    for module in SEEDING_MIGRATIONS:
        importlib.import_module(module).load(apps, None)


@pytest.fixture
def tree(db: Any) -> dict[str, Office]:
    """A small office tree: national > province 11 > city 1101 > counties 110101, 110102 > sub-districts."""
    nat = make_office("0", "国家监委")
    p = make_office("11", "北京市纪委监委", nat)
    c = make_office("1101", "市辖区纪委监委", p)
    a = make_office("110101", "东城区纪委监委", c)
    b = make_office("110102", "西城区纪委监委", c)
    s = make_office("110101001", "东华门街道纪工委", a)
    s2 = make_office("110101002", "景山街道纪工委", a)
    p2 = make_office("12", "天津市纪委监委", nat)
    return {
        "national": nat,
        "province": p,
        "city": c,
        "county": a,
        "sibling": b,
        "street": s,
        "street2": s2,
        "province2": p2,
    }


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    def make(office: Office | None, *roles: str, username: str | None = None) -> User:
        kwargs: dict[str, Any] = {"office": office, "roles": list(roles)}
        if username:
            kwargs["username"] = username
        return UserFactory(**kwargs)  # type: ignore[return-value]

    return make


@pytest.fixture
def staff(tree: dict[str, Office], make_user: Callable[..., User]) -> Callable[[str], User]:
    """staff("county") -> a user of that office holding every working role."""
    cache: dict[str, User] = {}

    def get(key: str) -> User:
        if key not in cache:
            cache[key] = make_user(tree[key], *WORK_ROLES, username=f"staff_{key}")
        return cache[key]

    return get


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    def client(user: User | None = None) -> APIClient:
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return client


@pytest.fixture
def register(tree: dict[str, Office]) -> Callable[..., Any]:
    """Register a case through the real service: register(office_key_or_office, **overrides)."""
    from qingfeng.intake.services import PartyInput, RegistrationInput, ReporterInput, case_register

    def reg(office: str | Office = "county", actor: User | None = None, **overrides: Any) -> Any:
        off = tree[office] if isinstance(office, str) else office
        reporter = overrides.pop("reporter", ReporterInput(anonymous=False, name="张三", phone="13800138000"))
        parties = overrides.pop("parties", [PartyInput(name="李四", post="镇长", unit="某某镇人民政府")])
        data = RegistrationInput(
            channel=overrides.pop("channel", "phone"),
            title=overrides.pop("title", "反映某镇镇长违规收受礼金"),
            description=overrides.pop("description", "2026年春节期间，某镇镇长李四收受辖区企业礼金两万元。"),
            region_code=overrides.pop("region_code", off.region_code if len(off.region_code) >= 2 else "11"),
            reporter=reporter,
            parties=parties,
            **overrides,
        )
        return case_register(data=data, office=off, actor=actor)

    return reg

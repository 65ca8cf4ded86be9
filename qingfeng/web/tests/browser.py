"""Browser fixtures shared by the workspace's browser tests: Debian's Chromium driven by Playwright.

Screenshots go to test-artifacts/screenshots/ (ignored by git); the folder is printed at the end
of each module that took any.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from fixtures are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
_shots: list[Path] = []


@pytest.fixture(scope="module")
def _report_screenshots(request: Any) -> Iterator[None]:
    """Print where the screenshots are, past pytest's output capture (with or without -s)."""
    yield
    if not _shots or sys.__stdout__ is None:
        return
    message = f"\nBrowser screenshots in {SCREENSHOTS}: {', '.join(p.name for p in _shots)}\n"
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            sys.__stdout__.write(message)
            sys.__stdout__.flush()
    else:
        sys.__stdout__.write(message)


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A browser per test, started after the test database is set up and stopped before it is reset.

    While Playwright's event loop runs, Django treats this thread as async and hands it a separate
    connection object; keeping Playwright inside the test leaves the test-case setup and teardown
    (the flush) on the usual connection.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
        # Close the connections opened while the loop ran, or PostgreSQL cannot drop the test database.
        connections.close_all()


@pytest.fixture
def server_url(live_server: Any) -> str:
    return str(live_server.url)


@pytest.fixture
def page(chromium: Any, server_url: str) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    pg = context.new_page()
    pg.base = server_url
    yield pg
    context.close()


def shoot(page: Any, name: str) -> None:
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # let ECharts finish drawing
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    _shots.append(path)


def sign_in(page: Any, username: str, password: str = "pw") -> None:
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click('[data-testid="login-submit"]')

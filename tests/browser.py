"""Playwright helpers for browser tests: a phone-sized Chromium page against ``live_server``.

Load it from a test module with ``pytest_plugins = ["tests.browser"]``: that registers the
``page`` fixture and the report hook that lets the fixture see whether the test failed, so a
failing test leaves ``test-artifacts/<test name>.png`` behind.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import need_chromium

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 812}
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# Set to a directory to keep a screenshot of every step (for looking at the layout).
SHOTS = os.environ.get("SCREENSHOT_DIR")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def step(page, name: str) -> None:
    """A step of a walk-through is done: the page fits the phone; with ``SCREENSHOT_DIR`` set,
    a screenshot of it is kept there as ``<name>.png``."""
    assert no_horizontal_scroll(page), f"horizontal scroll on {name}"
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # The fixture's teardown reads this to decide whether to keep a screenshot.
    setattr(item, f"_report_{report.when}", report)
    return report


def screenshot_path(nodeid_name: str) -> Path:
    return ARTIFACTS / (re.sub(r"[^\w.\-\[\]]+", "_", nodeid_name) + ".png")


@pytest.fixture
def browser_context(request, live_server, monkeypatch):
    """A Chromium context at a 375×812 phone viewport in zh-CN, started and stopped per test.

    A test module that injects a script of its own (axe-core) sets ``BYPASS_CSP = True``: the
    site's Content-Security-Policy would refuse it, as it refuses every inline script."""
    executable = need_chromium()
    # Playwright's sync API runs an event loop in this thread; Django would then refuse the
    # test's own ORM calls (made before and after the browser steps, never concurrently).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(
            viewport=PHONE,
            locale="zh-CN",
            bypass_csp=getattr(request.module, "BYPASS_CSP", False),
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()
            browser.close()


@pytest.fixture
def page(request, browser_context):
    """A fresh page (use ``live_server.url`` for addresses); screenshots itself on failure."""
    page = browser_context.new_page()
    yield page
    report = getattr(request.node, "_report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            page.screenshot(path=str(screenshot_path(request.node.name)), full_page=True)
        except Exception as exc:  # noqa: BLE001 - a broken page must not hide the real failure
            print(f"screenshot failed: {exc}", file=sys.stderr)

"""Browser fixtures for the end-to-end journeys (issue 10).

One headless Debian ``chromium`` per test session, driven by Playwright's sync API against
pytest-django's ``live_server`` with a real database. Playwright is never asked to download a
browser: it launches the system one through ``executable_path``.

- Without ``/usr/bin/chromium`` the browser tests skip with the reason, except in CI
  (``CI=true``), where a missing browser fails them.
- Playwright's sync API keeps an asyncio event loop running in the test thread while the
  browser is up, which Django's async-safety guard would take for an async context. The
  ``browser`` fixture therefore sets ``DJANGO_ALLOW_ASYNC_UNSAFE`` (Django's documented switch)
  for as long as Playwright runs, and ``pytest_collection_modifyitems`` below moves the browser
  tests to the end of the run so that no other test runs with the guard lowered.
- The tests use ``transaction=True`` so the live server sees their data; the shared
  ``_builtin_roles`` fixture (tests/conftest.py) puts back the built-in roles a flush removes.
- Each test gets fresh browser contexts (cookies, language) through ``open_page``; ``page``
  is the first one. Uncaught JavaScript errors fail the test.
"""
import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking switches Chromium phones home at start-up; outbound
# connections are refused in the sandboxes these tests run in, and nothing here needs them.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every step waits at most this long (ms): enough for a first, uncached page on a busy CI
# machine; a longer wait would only delay the report of a real failure.
STEP_TIMEOUT_MS = 10_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Run the browser tests last (after pytest-django's own ordering), keeping their relative order."""
    browser_items = [item for item in items if "browser" in item.keywords]
    if browser_items:
        others = [item for item in items if "browser" not in item.keywords]
        items[:] = others + browser_items


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"no browser: {CHROMIUM} is missing (install it with `apt-get install chromium`)"
        if _in_ci():
            pytest.fail(f"{reason}; CI must run the browser tests")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def open_page(browser, live_server, request):
    """``open_page(locale="en-US")`` opens a page in a fresh browser context (its own cookies, so its
    own signed-in user) whose relative URLs go to the live server; other keywords are Playwright's
    context options (``viewport=``, ``bypass_csp=``…)."""
    contexts, errors = [], []

    def open_(locale="en-US", **options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=live_server.url, locale=locale, **options)
        context.set_default_timeout(STEP_TIMEOUT_MS)
        context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors in the pages: {errors}"


@pytest.fixture
def page(open_page):
    return open_page()


@pytest.fixture
def screenshot(request):
    """``screenshot(page, "customer-list")`` writes artifacts/screenshots/<test>/<nn>-<name>.png."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    for stale in folder.glob("*.png"):
        stale.unlink()
    taken = []

    def shoot(page, name):
        taken.append(name)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{len(taken):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot


@pytest.fixture
def check_page(screenshot):
    """``check_page(page, "name")``: the accessibility basics hold on the page, then a screenshot."""
    from tests.e2e.pages import assert_accessible

    def check(page, name):
        assert_accessible(page)
        return screenshot(page, name)

    return check

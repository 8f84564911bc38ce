"""Browser tests: Playwright (Python) driving Debian's Chromium against pytest-django's live
server, on the SQLite test database.

Playwright's browser download is never used (it fails on these machines): the tests launch
/usr/bin/chromium, which .ci/run installs. Playwright's sync API runs an event loop in the test
thread, so Django's guard against ORM calls from async code is switched off for this package
(the calls are in fact synchronous: the test builds its data, then waits on the browser).
The variable is set when this file is imported, so `make pytest` leaves this folder out.

Screenshots of the key pages go to test-artifacts/screenshots/ (kept out of git) so that a
reviewer can look at what the tests saw.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, PHONE_390, TIMEOUT_MS


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None,
                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    """The browser tests use an SQLite file, as a deployment does (WAL, busy timeout).

    A browser fetches a page's images at once and the live server answers them in threads.
    Django's in-memory test database is shared between threads through SQLite's shared cache,
    whose table locks fail at once ("database table is locked") instead of waiting as a file
    database's locks do, so pages with several photos would fail only in the tests."""
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        folder = tmp_path_factory.mktemp("e2e-database")
        database.setdefault("TEST", {})["NAME"] = str(folder / "test.sqlite3")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)"
                    " — the browser tests never download a browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _links_point_at_the_live_server(settings: Any, live_server: Any) -> None:
    # Patient links are absolute (they are sent by text message): make them open this server.
    settings.PUBLIC_BASE_URL = live_server.url


def _context(browser: Browser, base_url: str, **options: Any) -> BrowserContext:
    context = browser.new_context(base_url=base_url, locale="en-GB",
                                  timezone_id="Europe/London", **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def desk(browser: Browser, live_server: Any) -> Iterator[Page]:
    """A clinic computer: a desktop-sized window."""
    context = _context(browser, live_server.url, viewport=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Browser, live_server: Any) -> Iterator[Page]:
    """The patient's phone: 360 px wide, touch, its own cookies."""
    context = _context(browser, live_server.url, viewport=PHONE, is_mobile=True,
                       has_touch=True, device_scale_factor=2)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone390(browser: Browser, live_server: Any) -> Iterator[Page]:
    """A larger phone, 390 × 844 (the size the tap budget and the page height are set for)."""
    context = _context(browser, live_server.url, viewport=PHONE_390, is_mobile=True,
                       has_touch=True, device_scale_factor=2)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone_without_js(browser: Browser, live_server: Any) -> Iterator[Page]:
    """A 390 × 844 phone with JavaScript switched off: the pages must work without it."""
    context = _context(browser, live_server.url, viewport=PHONE_390, is_mobile=True,
                       has_touch=True, java_script_enabled=False)
    yield context.new_page()
    context.close()

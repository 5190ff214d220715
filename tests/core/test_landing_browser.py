"""Each role signs in on a 375×812 phone and lands on its work, in a real browser (Debian's
Chromium through playwright) against a live server; a station user who opens the cart is shown
the way to the station. Skips without /usr/bin/chromium (fails in CI, RELIEF_CI_STRICT=1).
``FIELD_SCREENSHOTS=<folder>`` saves each landing at 375 and 1280 px."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core import roles
from tests.conftest import skip_or_fail
from tests.households.factories import UserFactory
from tests.logistics.factories import CollectionPointFactory, StationFactory, SupermarketFactory, staff_at
from tests.marketplace.factories import EmployeeFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = os.environ.get("FIELD_SCREENSHOTS")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no browser at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _shot(page, name: str) -> None:
    if not SCREENSHOTS:
        return
    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-375.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-1280.png"))
    page.set_viewport_size({"width": 375, "height": 812})


def test_each_role_signs_in_on_a_phone_and_lands_on_its_work(browser, live_server):
    staff_at(CollectionPointFactory(), roles.COLLECTION_POINT_STAFF, username="point")
    staff_at(StationFactory(), roles.SORTING_STATION_STAFF, username="station")
    staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF, username="shop")
    UserFactory(username="county", role=roles.COUNTY_OFFICE)
    EmployeeFactory(user=UserFactory(username="employee"))
    landings = {"point": "/intake/", "station": "/station/", "shop": "/staff/orders/", "county": "/admin/", "employee": "/"}
    for username, landing in landings.items():
        context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN", is_mobile=True, has_touch=True)
        page = context.new_page()
        page.set_default_timeout(20000)
        try:
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", "pw-relief-1")
            page.locator("main form button[type=submit]").click()
            page.wait_for_url(f"{live_server.url}{landing}")
            _shot(page, f"landing-{username}")
            if username in ("point", "station", "shop"):
                # the header links the role's screens, the current one marked
                assert page.locator(f'.site-nav a[href="{landing}"][aria-current="page"]').count() == 1
                page.goto(f"{live_server.url}/cart/")
                notice = page.locator("main [role=alert]")
                assert notice.locator(f'a[href="{landing}"]').count() == 1
                _shot(page, f"shop-refuses-{username}")
                notice.locator(f'a[href="{landing}"]').click()
                page.wait_for_url(f"{live_server.url}{landing}")
        finally:
            context.close()

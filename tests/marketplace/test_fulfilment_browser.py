"""The staff pages on a 375×812 phone in a real browser (Debian's Chromium through playwright):
work an order through the queue, open it, read a statement — no page scrolls sideways.
Skips without /usr/bin/chromium (fails in CI, RELIEF_CI_STRICT=1); never downloads a browser."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction

from core import roles
from marketplace.models import Order
from marketplace.services.allocation import allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from tests.conftest import skip_or_fail
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import EmployeeFactory, EmployerFactory, ProductFactory, allocation_year, stock_batch

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = os.environ.get("STAFF_SCREENSHOTS")

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


def _no_sideways_scroll(page, width: int = 375) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide at a {width}px viewport"


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_staff_work_an_office_order_through_the_queue_on_a_phone(browser, live_server):
    shop = SupermarketFactory()
    staff_at(shop, roles.SUPERMARKET_STAFF, username="picker")
    product = ProductFactory(name="镇安板栗 2.5kg 礼盒（特级）", price=Decimal("88.00"))
    with transaction.atomic():
        stock_batch(product, 20, facility=shop)
    setting = allocation_year()
    employer = EmployerFactory(name="镇安县人民医院", office_address="镇安县永乐街道人民路 128 号")
    employee = EmployeeFactory(employer=employer)
    allocation_grant(employee=employee, year=setting.year)
    cart_item_set(employee=employee, product=product, quantity=2)
    order = checkout_submit(employee=employee, fulfilment="office").order

    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(f"{live_server.url}/accounts/login/?next=/staff/orders/")
        page.fill("#id_username", "picker")
        page.fill("#id_password", "pw-relief-1")
        page.locator("form button[type=submit].primary").click()
        page.wait_for_url("**/staff/orders/")
        group = page.locator(f"[data-group=employer-{employer.pk}]")
        assert "镇安县人民医院" in group.inner_text()
        assert "镇安板栗" in group.locator("[data-pick-list]").inner_text()
        _no_sideways_scroll(page)
        _shot(page, "staff-queue-phone")

        page.get_by_role("button", name="开始拣货").click()
        page.wait_for_url("**/staff/orders/")
        page.get_by_role("button", name="出发配送").click()
        page.wait_for_url("**/staff/orders/")
        assert Order.objects.get(pk=order.pk).status == Order.Status.OUT_FOR_DELIVERY

        page.goto(f"{live_server.url}/staff/orders/{order.number}/")
        _no_sideways_scroll(page)
        _shot(page, "staff-order-phone")
        page.get_by_role("button", name="已送达").click()
        page.wait_for_url(f"**/staff/orders/{order.number}/")
        assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED
        page.locator("details#refund summary").click()
        _no_sideways_scroll(page)

        page.goto(f"{live_server.url}/staff/statements/?employer={employer.pk}")
        assert "176.00" in page.locator("[data-owed]").inner_text()
        _no_sideways_scroll(page)
        _shot(page, "staff-statement-phone")
    finally:
        context.close()

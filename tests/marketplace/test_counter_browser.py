"""The counter screen on a 375 px phone in a real browser (Debian's Chromium through playwright):
a cashier sells two products — one typed in by its batch code, one picked from the list — takes
cash, and gets the receipt; the day's report shows the sale. No page scrolls sideways. Skips
without /usr/bin/chromium (fails in CI, RELIEF_CI_STRICT=1); never downloads a browser."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from django.db import transaction

from core import roles
from logistics.models import BatchStock
from marketplace.models import CounterSale, Order, OrderLineBatch
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import ProductFactory, stock_batch
from tests.marketplace.test_fulfilment_browser import _no_sideways_scroll, _shot, browser  # noqa: F401  (the fixture)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, base: str, username: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-relief-1")
    page.locator("form button[type=submit].primary").click()
    page.wait_for_url(f"**{next_url}")


@pytest.mark.parametrize("width", [375, 1280])
def test_a_cashier_sells_two_products_one_by_batch_code_at_the_counter(browser, live_server, width):  # noqa: F811
    shop = SupermarketFactory()
    staff_at(shop, roles.SUPERMARKET_STAFF, username="cashier1")
    chestnut = ProductFactory(name="镇安板栗 500g", price=Decimal("25.50"))
    tea = ProductFactory(name="镇安象园茶 250g", price=Decimal("88.00"))
    with transaction.atomic():
        stock_batch(chestnut, 5, days_ago=30, facility=shop)
        scanned = stock_batch(chestnut, 5, days_ago=3, facility=shop)
        stock_batch(tea, 4, facility=shop)

    context = browser.new_context(viewport={"width": width, "height": 812}, locale="zh-CN", is_mobile=width < 600, has_touch=width < 600)
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        _sign_in(page, live_server.url, "cashier1", "/counter/")
        # the label's QR holds the trace URL; typing the bare code works the same
        page.fill("[data-testid=batch-code]", scanned.code.lower())
        page.locator("#code-form button[type=submit]").click()
        page.locator("[data-testid=qty-0]").wait_for()
        page.locator("#lines li").first.locator("button", has_text="+").click()
        page.select_option("[data-testid=product-select]", str(tea.pk))
        page.locator("#product-form button[type=submit]").click()
        page.locator("[data-testid=qty-1]").wait_for()
        assert page.inner_text("[data-testid=total]") == "¥139.00"
        page.fill("[data-testid=cash]", "150")
        _shot(page, f"counter-sale-{width}")
        if width == 375:
            _no_sideways_scroll(page)
        page.click("[data-testid=submit-sale]")
        page.wait_for_url("**/receipt/")
        number = page.inner_text("[data-testid=receipt-number]")
        assert page.inner_text("[data-testid=receipt-total]").replace(" ", "") in ("¥139.00", "139.00元", "￥139.00")
        assert "11.00" in page.inner_text(".receipt")  # change
        _shot(page, f"counter-receipt-{width}")
        if width == 375:
            _no_sideways_scroll(page)

        order = Order.objects.get(number=number)
        assert (order.channel, order.status, order.offline_amount) == ("counter", "completed", Decimal("139.00"))
        assert CounterSale.objects.get(order=order).change == Decimal("11.00")
        taken = {(lb.batch.code, lb.units) for lb in OrderLineBatch.objects.filter(line__order=order).select_related("batch")}
        assert (scanned.code, 2) in taken and len(taken) == 2
        assert BatchStock.objects.get(batch=scanned).quantity == 3

        page.goto(f"{live_server.url}/counter/report/")
        assert page.inner_text("[data-testid=sales-count]") == "1"
        page.fill("#counted", "139")
        page.locator("form[action$='/till/'] button[type=submit]").click()
        page.locator("[data-testid=till]").wait_for()
        _shot(page, f"counter-report-{width}")
        if width == 375:
            _no_sideways_scroll(page)
    finally:
        context.close()


def test_an_employee_shows_a_one_time_counter_code_on_a_phone(browser, live_server):  # noqa: F811
    from marketplace.models import AllocationPass
    from marketplace.services.allocation import allocation_grant
    from tests.households.factories import UserFactory
    from tests.marketplace.factories import EmployeeFactory, allocation_year

    setting = allocation_year()
    user = UserFactory(username="payer", role=roles.EMPLOYEE)
    employee = EmployeeFactory(user=user)
    allocation_grant(employee=employee, year=setting.year)
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        _sign_in(page, live_server.url, "payer", "/allocation/")
        page.click("[data-testid=counter-pass]")
        page.locator("[data-testid=pass-qr] svg").wait_for()
        token = page.inner_text("[data-testid=pass-token]")
        assert AllocationPass.objects.get(token=token).employee == employee
        _shot(page, "counter-pass-375")
        _no_sideways_scroll(page)
    finally:
        context.close()

"""The storefront in a real browser (Debian's Chromium through playwright) against a live server.

As an employee: sign in, filter a category, open a product, add to cart, check out with the
allocation, see the order and the reduced balance — on a desktop and on a 375×812 phone, where
no page may scroll sideways. An order over the balance shows the clear "card payment not
configured" message when no card provider is set up. Never downloads a browser: without
/usr/bin/chromium the tests skip with the reason (and fail in CI, RELIEF_CI_STRICT=1).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.services.allocation import allocation_grant
from tests.cms.factories import catalogue
from tests.conftest import skip_or_fail
from tests.households.factories import UserFactory
from tests.marketplace.factories import EmployeeFactory, allocation_year, use_provider

# playwright's sync API runs an event loop in this thread; the ORM calls made from the test
# (and the live server thread) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = os.environ.get("STOREFRONT_SCREENSHOTS")  # a folder: save screenshots there

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


@pytest.fixture(autouse=True)
def no_card_provider(monkeypatch):
    use_provider(monkeypatch, None)


@pytest.fixture
def employee():
    setting = allocation_year()
    employee = EmployeeFactory(user=UserFactory(username="shopper"))
    allocation_grant(employee=employee, year=setting.year)
    return employee


def _page(browser, live_server, *, phone: bool):
    viewport = {"width": 375, "height": 812} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def _no_sideways_scroll(page, width: int = 375) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide at a {width}px viewport"


A11Y_PROBLEMS = """() => {
  const problems = [];
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('img without alt: ' + img.src);
  }
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) problems.push('unlabelled ' + el.tagName + ' ' + (el.name || el.id));
  }
  for (const b of document.querySelectorAll('button, a[href]')) {
    if (!(b.textContent || '').trim() && !b.getAttribute('aria-label') && !b.querySelector('img[alt]:not([alt=""])'))
      problems.push('control without a name: ' + b.outerHTML.slice(0, 80));
  }
  return problems;
}"""


def _accessible(page) -> None:
    """Every image has alt text (empty when decorative), every field a label, every control a name."""
    assert page.evaluate(A11Y_PROBLEMS) == [], page.url


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def _sign_in(page, live_server, username: str = "shopper") -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-relief-1")
    page.locator("form button[type=submit].primary").click()
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone-375x812"])
def test_employee_filters_buys_with_the_allocation_and_sees_the_order_and_balance(browser, live_server, employee, phone):
    shop = catalogue(3, price="60.00", units=10, with_images=True)
    sold_out = catalogue(1, price="55.00", units=0)
    context, page = _page(browser, live_server, phone=phone)
    def check():
        _accessible(page)
        if phone:
            _no_sideways_scroll(page)

    try:
        _sign_in(page, live_server)
        assert "¥700.00" in page.locator("[data-testid=home-balance]").inner_text()
        check()
        _shot(page, f"home-{'phone' if phone else 'desktop'}")

        page.locator(".category-nav a", has_text="板栗").click()
        page.wait_for_url(f"**{shop.category.url}")
        check()
        page.locator("details.filters summary").click()
        page.get_by_label("只看有货").check()
        page.get_by_label("排序").select_option("-price")
        page.get_by_role("button", name="筛选").click()
        page.wait_for_url("**in_stock=on**")
        titles = page.locator(".product-card-title").all_inner_texts()
        assert sold_out.products[0].name not in titles
        assert titles[0] == shop.products[2].name  # dearest first
        check()
        _shot(page, f"listing-{'phone' if phone else 'desktop'}")

        page.locator(".product-card-title", has_text=shop.products[0].name).click()
        page.wait_for_url(f"**{shop.pages[0].url}")
        assert "¥60.00" in page.locator("[data-testid=price]").inner_text()
        check()
        _shot(page, f"product-{'phone' if phone else 'desktop'}")
        page.get_by_label("数量").fill("2")
        page.get_by_label("数量").press("Enter")  # the keyboard submits the add-to-cart form
        page.wait_for_url("**/cart/")
        assert "¥120.00" in page.content()
        check()
        page.get_by_role("link", name="去结算").click()
        page.wait_for_url("**/checkout/")
        assert page.locator("[data-testid=allocation-amount]").inner_text() == "¥120.00"
        check()
        page.get_by_role("button", name="提交订单").click()
        page.wait_for_url("**/orders/*/")
        assert page.locator("[data-testid=order-allocation]").inner_text() == "¥120.00"
        number = page.url.rstrip("/").rsplit("/", 1)[-1]
        check()
        _shot(page, f"order-{'phone' if phone else 'desktop'}")

        page.goto(f"{live_server.url}/orders/")
        assert number in page.content()
        check()
        page.goto(f"{live_server.url}/allocation/")
        assert page.locator("[data-testid=balance]").inner_text() == "¥580.00"
        check()
    finally:
        context.close()
    from marketplace.models import Order

    assert Order.objects.get(number=number).allocation_amount == Decimal("120.00")


def test_over_the_balance_without_card_payment_the_checkout_says_card_payment_is_not_configured(browser, live_server, employee):
    shop = catalogue(1, price="400.00", units=5)
    context, page = _page(browser, live_server, phone=True)
    try:
        _sign_in(page, live_server)
        page.goto(f"{live_server.url}{shop.pages[0].url}")
        page.get_by_label("数量").fill("2")
        page.get_by_role("button", name="加入购物车").click()
        page.wait_for_url("**/cart/")
        page.get_by_role("link", name="去结算").click()
        page.wait_for_url("**/checkout/")
        message = page.locator("[data-testid=card-not-configured]")
        assert "银行卡支付未开通" in message.inner_text()
        assert page.locator("[data-testid=card-amount]").inner_text() == "¥100.00"
        assert page.get_by_role("button", name="提交订单").count() == 0
        _no_sideways_scroll(page)
        _shot(page, "checkout-over-balance-phone")
    finally:
        context.close()


def test_a_visitor_adding_to_cart_signs_in_and_lands_on_the_add(browser, live_server, employee):
    shop = catalogue(1, price="30.00", units=5)
    context, page = _page(browser, live_server, phone=True)
    try:
        page.goto(f"{live_server.url}{shop.pages[0].url}")
        page.get_by_label("数量").fill("3")
        page.get_by_role("button", name="加入购物车").click()
        page.wait_for_url("**/accounts/login/**")
        page.fill("#id_username", "shopper")
        page.fill("#id_password", "pw-relief-1")
        page.locator("form button[type=submit].primary").click()
        page.wait_for_url("**/cart/add/**")
        assert page.locator("#id_quantity").input_value() == "3"
        page.get_by_role("button", name="加入购物车").click()
        page.wait_for_url("**/cart/")
        assert "¥90.00" in page.content()
        _no_sideways_scroll(page)
    finally:
        context.close()

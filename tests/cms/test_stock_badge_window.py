"""Stock badges in a window (``STOREFRONT_STOCK_BADGE_SECONDS``): on allocation day stock moves
with every checkout, so a movement does not drop every cached page; a badge is at most one window
behind, then the page is rendered afresh. Holds and prices still change pages at once."""

import pytest

from cms import cache as page_cache
from cms.cache import CACHED_HEADER
from core import roles
from logistics.services.batches import batch_hold
from logistics.services.stock import batch_stock_receive
from tests.cms.factories import catalogue
from tests.households.factories import UserFactory
from tests.logistics.factories import SupermarketFactory

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def window(settings, monkeypatch):
    settings.STOREFRONT_STOCK_BADGE_SECONDS = 10
    clock = Clock(1_000_000.0)  # the start of a window
    monkeypatch.setattr(page_cache.time, "time", clock)
    return clock


@pytest.fixture
def shop():
    return catalogue(2, price="40.00")


def _receive(product, units=5):
    batch = product.sku.batches.first()
    batch_stock_receive(batch=batch, facility_id=SupermarketFactory().pk, units=units, reference_type="test", reference_code="more")


def test_a_sale_inside_the_window_keeps_the_page_and_the_badge_catches_up_after_it(client, shop, window):
    url = shop.pages[0].url
    assert client.get(url)[CACHED_HEADER] == "miss"
    window.now += 1
    _receive(shop.products[0])  # stock moves: no page is dropped at once
    window.now += 1
    r = client.get(url)
    assert r[CACHED_HEADER] == "miss"  # the first movement of a window starts its live generation
    assert "25 件有货" in r.content.decode()
    window.now += 1
    _receive(shop.products[0])  # a second movement in the same window
    r = client.get(url)
    assert r[CACHED_HEADER] == "hit" and "25 件有货" in r.content.decode()  # at most one window behind
    window.now += 10  # the window has passed: rendered afresh, then shared until stock moves again
    r = client.get(url)
    assert r[CACHED_HEADER] == "miss" and "30 件有货" in r.content.decode()
    window.now += 100
    assert client.get(url)[CACHED_HEADER] == "hit"


def test_signed_in_employees_share_pages_through_a_window_of_sales_too(client, shop, window):
    from tests.marketplace.factories import EmployeeFactory

    employee = EmployeeFactory()
    client.force_login(employee.user)
    url = shop.pages[1].url
    client.get(url)
    window.now += 20
    _receive(shop.products[1])
    assert client.get(url)[CACHED_HEADER] == "miss"
    window.now += 1
    _receive(shop.products[1])
    assert client.get(url)[CACHED_HEADER] == "hit"


def test_a_hold_changes_pages_at_once_even_inside_a_window(client, shop, window):
    url = shop.category.url + "?in_stock=on"
    assert shop.products[0].name in client.get(url).content.decode()
    batch = shop.products[0].sku.batches.first()
    batch_hold(batch=batch, reason="复检", author=UserFactory(role=roles.COUNTY_OFFICE))
    r = client.get(url)
    assert r[CACHED_HEADER] == "miss" and shop.products[0].name not in r.content.decode()


def test_without_a_window_every_movement_drops_the_pages(client, shop, settings):
    settings.STOREFRONT_STOCK_BADGE_SECONDS = 0
    url = shop.pages[0].url
    client.get(url)
    assert client.get(url)[CACHED_HEADER] == "hit"
    _receive(shop.products[0])
    r = client.get(url)
    assert r[CACHED_HEADER] == "miss" and "25 件有货" in r.content.decode()

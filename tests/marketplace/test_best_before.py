"""Best-before enforced on every sales path, and units taken earliest-expiring first (FEFO).

The rule lives in ``logistics.selectors.stock`` (sellable = at the supermarket, inspected, not
held, not past best-before in the county's calendar); these tests drive it through the
storefront, the cart preview, the API and both checkouts."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from logistics.models import BatchStock
from logistics.selectors.stock import county_today
from marketplace.models import CartItem, Order, OrderLineBatch
from marketplace.services.allocation import allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import InsufficientStock, checkout_preview, checkout_submit
from tests.cms.factories import catalogue
from tests.logistics.factories import SupermarketFactory
from tests.marketplace.factories import EmployeeFactory, ProductFactory, allocation_year, stock_batch, use_provider

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def zh_and_no_card(monkeypatch):
    use_provider(monkeypatch, None)
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def employee():
    setting = allocation_year()
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=setting.year)
    return employee


def _yesterday() -> datetime.date:
    return county_today() - datetime.timedelta(days=1)


@pytest.fixture
def expired_only():
    """A product on a live page whose only batch went past its best-before yesterday."""
    shop = catalogue(1, price="60.00", units=0)
    product, page = shop.products[0], shop.pages[0]
    batch = stock_batch(product, 8, best_before=_yesterday(), facility=SupermarketFactory())
    return product, page, batch


def _untouched(batch) -> None:
    row = BatchStock.objects.get(batch=batch)
    assert (row.quantity, row.reserved) == (8, 0)
    assert not OrderLineBatch.objects.filter(batch=batch).exists()


def test_a_unit_past_its_date_is_sold_out_on_the_storefront_and_in_the_api(client, employee, expired_only):
    product, page, _batch = expired_only

    html = client.get(page.url).content.decode()
    api = APIClient()
    api.force_authenticate(employee.user)
    listed = {p["id"]: p for p in api.get("/api/v1/products/").json()["results"]}

    assert "暂时售罄" in html and 'name="quantity"' not in html
    assert listed[product.pk]["available"] == 0


def test_a_unit_past_its_date_is_refused_by_the_cart_preview_and_both_checkouts(employee, expired_only):
    product, _page, batch = expired_only
    cart_item_set(employee=employee, product=product, quantity=1)  # e.g. put in the cart the day before
    html, api = Client(), APIClient()
    html.force_login(employee.user)
    api.force_authenticate(employee.user)

    assert f"{product.name}已售罄" in html.get("/cart/").content.decode()
    assert f"{product.name}已售罄" in " ".join(api.get("/api/v1/cart/").json()["problems"])
    html_checkout = html.post("/checkout/", {"fulfilment": "pickup"})
    api_checkout = api.post("/api/v1/checkout/", {"fulfilment": "pickup"}, format="json")

    assert html_checkout.status_code == 409 and f"{product.name}已售罄" in html_checkout.content.decode()
    assert api_checkout.status_code == 409 and f"{product.name}已售罄" in api_checkout.json()["detail"]
    assert not Order.objects.exists()
    assert CartItem.objects.filter(cart__employee=employee).count() == 1
    _untouched(batch)


def test_a_batch_is_sold_on_its_best_before_day_and_not_the_day_after(employee):
    product = ProductFactory(price=Decimal("10.00"))
    today = county_today()
    last_day = stock_batch(product, 2, best_before=today)
    stock_batch(product, 5, best_before=today - datetime.timedelta(days=1))

    cart_item_set(employee=employee, product=product, quantity=3)
    preview = checkout_preview(employee=employee)

    assert any("仅剩2件" in p for p in preview.problems)
    with pytest.raises(InsufficientStock):
        checkout_submit(employee=employee)
    cart_item_set(employee=employee, product=product, quantity=2)
    order = checkout_submit(employee=employee).order
    assert [link.batch_id for link in OrderLineBatch.objects.filter(line__order=order)] == [last_day.pk]


def test_the_county_day_decides_not_the_servers_utc_day():
    # 17:30 UTC on 2 December is 01:30 on 3 December in Zhen'an (UTC+8)
    late_evening_utc = datetime.datetime(2026, 12, 2, 17, 30, tzinfo=datetime.UTC)
    assert county_today(late_evening_utc) == datetime.date(2026, 12, 3)
    assert county_today(late_evening_utc - datetime.timedelta(hours=10)) == datetime.date(2026, 12, 2)


def test_checkout_takes_the_batch_expiring_first_even_when_it_was_packed_later(employee):
    product = ProductFactory(price=Decimal("10.00"))
    today = county_today()
    old_but_lasting = stock_batch(product, 5, days_ago=30, best_before=today + datetime.timedelta(days=200))
    new_but_short = stock_batch(product, 5, days_ago=2, best_before=today + datetime.timedelta(days=20))

    cart_item_set(employee=employee, product=product, quantity=7)
    order = checkout_submit(employee=employee).order

    taken = dict(OrderLineBatch.objects.filter(line__order=order).values_list("batch_id", "units"))
    assert taken == {new_but_short.pk: 5, old_but_lasting.pk: 2}


batches = st.lists(
    st.tuples(st.integers(-3, 30), st.integers(0, 60), st.integers(1, 6)),  # best-before in days, packed days ago, units
    min_size=1, max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=batches, wanted=st.integers(1, 20))
def test_checkout_never_takes_a_later_expiring_unit_while_an_earlier_one_is_left(spec, wanted):
    with transaction.atomic():
        setting = allocation_year()
        employee = EmployeeFactory()
        allocation_grant(employee=employee, year=setting.year)
        product = ProductFactory(price=Decimal("1.00"))
        today = county_today()
        made = [stock_batch(product, units, days_ago=packed, best_before=today + datetime.timedelta(days=bb))
                for bb, packed, units in spec]
        sellable = [b for b in made if b.best_before >= today]
        cart_item_set(employee=employee, product=product, quantity=wanted)
        try:
            order = checkout_submit(employee=employee).order
        except InsufficientStock:
            assert wanted > sum(b.units for b in sellable)
        else:
            taken = dict(OrderLineBatch.objects.filter(line__order=order).values_list("batch_id", "units"))
            assert sum(taken.values()) == wanted
            assert all(b.best_before >= today for b in made if b.pk in taken)  # nothing past its date
            fefo = sorted(sellable, key=lambda b: (b.best_before, b.packed_at, b.pk))
            # the units taken are a prefix of the FEFO order: whole batches, then part of the next
            left = wanted
            for batch in fefo:
                expect = min(batch.units, left)
                assert taken.get(batch.pk, 0) == expect
                left -= expect
        transaction.set_rollback(True)


def test_a_batch_expiring_while_in_a_cart_is_not_reserved_at_checkout(employee, monkeypatch):
    product = ProductFactory(price=Decimal("10.00"))
    today = county_today()
    stock_batch(product, 3, best_before=today)
    cart_item_set(employee=employee, product=product, quantity=1)
    assert checkout_preview(employee=employee).problems == []

    tomorrow = timezone.now() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)

    with pytest.raises(InsufficientStock):
        checkout_submit(employee=employee)
    assert not Order.objects.exists()

"""Counter sales racing online checkouts, and a QR pass shown twice at once, on PostgreSQL with
real threads and row locks (skipped on SQLite, required in CI)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core import roles
from logistics.models import BatchStock
from marketplace.models import AllocationEntry, CounterSale, Order, OrderLineBatch
from marketplace.services.allocation import allocation_balance
from marketplace.services.cart import cart_item_set
from marketplace.services.counter import allocation_pass_issue
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import ProductFactory, allocation_year, stock_batch, use_provider
from tests.marketplace.test_concurrency import granted_employees, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_provider(monkeypatch):
    use_provider(monkeypatch, None)


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_counter_sales_and_online_checkouts_for_the_last_units_sell_each_unit_once(on_postgres):
    shop = SupermarketFactory()
    cashiers = [staff_at(shop, roles.SUPERMARKET_STAFF) for _ in range(3)]
    product = ProductFactory(name="镇安板栗礼盒", price=Decimal("60.00"))
    old = stock_batch(product, 6, days_ago=30, facility=shop)
    new = stock_batch(product, 6, days_ago=5, facility=shop)
    employees = granted_employees(12)
    for e in employees:
        cart_item_set(employee=e, product=product, quantity=1)

    def checkout_as(employee):
        return lambda: _api(employee.user).post("/api/v1/checkout/", {}, format="json").status_code

    def counter_sale(i):
        line = {"batch": new.code, "quantity": 1} if i % 2 else {"product": product.pk, "quantity": 1}
        return lambda: _api(cashiers[i % 3]).post(
            "/api/v1/counter/sales/", {"client_id": f"race-{i}", "lines": [line], "cash": "60"}, format="json"
        ).status_code

    calls = [checkout_as(e) for e in employees] + [counter_sale(i) for i in range(12)]
    results = run_together(calls)

    statuses = Counter(r if isinstance(r, int) else repr(r) for r in results)
    assert set(statuses) <= {201, 409}, statuses
    assert statuses[201] == 12, statuses
    assert sum(OrderLineBatch.objects.values_list("units", flat=True)) == 12
    assert list(BatchStock.objects.filter(batch__in=[old, new]).order_by("batch_id").values_list("quantity", "reserved")) == [
        (0, 0), (0, 0)
    ]
    online = Order.objects.filter(channel="online").count()
    counter = Order.objects.filter(channel="counter").count()
    assert online + counter == 12 and counter == CounterSale.objects.count()


def test_a_qr_pass_shown_at_two_tills_at_once_pays_once(on_postgres):
    shop = SupermarketFactory()
    cashiers = [staff_at(shop, roles.SUPERMARKET_STAFF) for _ in range(4)]
    product = ProductFactory(price=Decimal("30.00"))
    stock_batch(product, 50, facility=shop)
    (employee,) = granted_employees(1)
    issued = allocation_pass_issue(employee=employee)

    def sale(i):
        return lambda: _api(cashiers[i]).post("/api/v1/counter/sales/", {
            "client_id": f"twice-{i}", "lines": [{"product": product.pk, "quantity": 1}], "allocation_token": issued.token,
        }, format="json").status_code

    results = run_together([sale(i) for i in range(4)])
    assert sorted(results) == [201, 409, 409, 409], results
    assert AllocationEntry.objects.filter(employee=employee, kind="spend").count() == 1
    assert allocation_balance(employee=employee, year=allocation_year().year) == Decimal("670.00")


def test_the_same_sale_submitted_at_once_from_a_flaky_connection_is_made_once(on_postgres):
    shop = SupermarketFactory()
    cashier = staff_at(shop, roles.SUPERMARKET_STAFF)
    product = ProductFactory(price=Decimal("12.00"))
    stock_batch(product, 20, facility=shop)
    payload = {"client_id": "retry-storm", "lines": [{"product": product.pk, "quantity": 2}], "cash": "30"}
    results = run_together([lambda: _api(cashier).post("/api/v1/counter/sales/", payload, format="json").json()["number"]
                            for _ in range(5)])
    assert len(set(results)) == 1, results
    assert Order.objects.filter(channel="counter").count() == 1
    assert BatchStock.objects.get(batch__sku=product.sku).quantity == 18

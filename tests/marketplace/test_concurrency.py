"""Races on PostgreSQL with real threads and row locks (skipped on SQLite, required in CI)."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from logistics.models import BatchStock
from marketplace.models import AllocationEntry, Order, OrderLineBatch
from marketplace.services.allocation import AllocationExhausted, allocation_balance, allocation_grant, allocation_spend
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import EmptyCart, checkout_submit
from tests.marketplace.factories import EmployeeFactory, ProductFactory, allocation_year, stock_batch, use_provider

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_provider(monkeypatch):
    use_provider(monkeypatch, None)


def run_together(functions) -> list:
    """Start every function at the same moment in its own thread; return results (or exceptions)."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def worker(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except BaseException as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def granted_employees(n: int):
    setting = allocation_year()
    employees = [EmployeeFactory() for _ in range(n)]
    for e in employees:
        allocation_grant(employee=e, year=setting.year)
    return employees


def test_fifty_concurrent_checkouts_for_twenty_units_sell_exactly_twenty(on_postgres):
    product = ProductFactory(name="镇安板栗礼盒", price=Decimal("60.00"))
    stock_batch(product, 12, days_ago=30)
    stock_batch(product, 8, days_ago=5)
    employees = granted_employees(50)
    for e in employees:
        cart_item_set(employee=e, product=product, quantity=1)

    def checkout_as(employee):
        def call():
            client = APIClient()
            client.force_authenticate(employee.user)
            response = client.post("/api/v1/checkout/", {}, format="json")
            return response.status_code, response.json()

        return call

    results = run_together([checkout_as(e) for e in employees])

    statuses = Counter(r[0] if isinstance(r, tuple) else repr(r) for r in results)
    assert statuses == {201: 20, 409: 30}, statuses
    refusals = [body["detail"] for code, body in results if code == 409]
    assert all("镇安板栗礼盒" in m and "售罄" in m for m in refusals), refusals[:3]
    assert sum(OrderLineBatch.objects.values_list("units", flat=True)) == 20
    assert list(BatchStock.objects.filter(batch__sku=product.sku).values_list("quantity", "reserved")) == [(0, 0), (0, 0)]
    assert Order.objects.filter(status="paid").count() == 20


def test_two_concurrent_400_yuan_debits_against_700_only_one_succeeds(on_postgres):
    (employee,) = granted_employees(1)
    year = allocation_year().year

    results = run_together(
        [lambda n=n: allocation_spend(employee=employee, year=year, amount=Decimal("400.00"), order_number=f"R{n}") for n in range(2)]
    )

    assert sum(isinstance(r, AllocationEntry) for r in results) == 1
    assert sum(isinstance(r, AllocationExhausted) for r in results) == 1
    assert allocation_balance(employee=employee, year=year) == Decimal("300.00")


def test_the_same_cart_checked_out_twice_at_once_yields_one_order(on_postgres):
    product = ProductFactory(price=Decimal("400.00"))
    stock_batch(product, 10)
    (employee,) = granted_employees(1)
    cart_item_set(employee=employee, product=product, quantity=1)

    results = run_together([lambda: checkout_submit(employee=employee) for _ in range(2)])

    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert sum(isinstance(r, EmptyCart) for r in results) == 1
    assert Order.objects.count() == 1
    assert allocation_balance(employee=employee, year=allocation_year().year) == Decimal("300.00")


def test_carts_holding_the_same_products_in_opposite_orders_never_deadlock(on_postgres):
    a, b = ProductFactory(price=Decimal("10.00")), ProductFactory(price=Decimal("12.00"))
    stock_batch(a, 100)
    stock_batch(b, 100)
    employees = granted_employees(20)
    for i, e in enumerate(employees):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        cart_item_set(employee=e, product=first, quantity=2)
        cart_item_set(employee=e, product=second, quantity=3)

    results = run_together([lambda e=e: checkout_submit(employee=e) for e in employees])

    assert [r for r in results if isinstance(r, Exception)] == []
    assert Order.objects.filter(status="paid").count() == 20
    # half the carts take 2 of A and 3 of B, the other half 3 of A and 2 of B
    assert BatchStock.objects.get(batch__sku=a.sku).quantity == 100 - 10 * 2 - 10 * 3
    assert BatchStock.objects.get(batch__sku=b.sku).quantity == 100 - 10 * 3 - 10 * 2


def test_a_400_yuan_checkout_racing_another_400_yuan_debit_against_700_lets_only_one_through(on_postgres):
    product = ProductFactory(price=Decimal("400.00"))
    stock_batch(product, 10)
    (employee,) = granted_employees(1)
    year = allocation_year().year
    cart_item_set(employee=employee, product=product, quantity=1)

    results = run_together(
        [
            lambda: checkout_submit(employee=employee),
            lambda: allocation_spend(employee=employee, year=year, amount=Decimal("400.00"), order_number="OTHER"),
        ]
    )

    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1, results
    assert "余额" in failures[0].message  # AllocationExhausted or CardPaymentUnavailable, both say so
    assert allocation_balance(employee=employee, year=year) == Decimal("300.00")
    assert Order.objects.count() == (0 if isinstance(results[0], Exception) else 1)

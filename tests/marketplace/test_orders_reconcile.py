from decimal import Decimal

import pytest

from logistics.models import BatchStock
from logistics.reconcile import registered_checks, run_checks
from logistics.selectors.trace import trace_batch
from marketplace.models import AllocationEntry
from marketplace.services.allocation import allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from tests.marketplace.factories import EmployeeFactory, FakeProvider, ProductFactory, allocation_year, stock_batch, use_provider

pytestmark = pytest.mark.django_db

SHOP_CHECKS = ["allocation_ledger", "order_allocation_spend", "reserved_units_pending_orders"]


@pytest.fixture
def two_orders(monkeypatch):
    use_provider(monkeypatch, FakeProvider())
    setting = allocation_year()
    product = ProductFactory(price=Decimal("300.00"))
    batch = stock_batch(product, 20)
    orders = []
    for quantity in (1, 3):  # 300 from the allocation; 900 = 700 + 200 by card (pending)
        employee = EmployeeFactory()
        allocation_grant(employee=employee, year=setting.year)
        cart_item_set(employee=employee, product=product, quantity=quantity)
        orders.append(checkout_submit(employee=employee).order)
    return batch, orders


def test_the_shop_checks_are_registered_and_find_nothing_wrong_after_checkouts(two_orders):
    assert set(SHOP_CHECKS) <= set(registered_checks())
    assert run_checks(SHOP_CHECKS) == {name: [] for name in SHOP_CHECKS}


def test_a_reservation_without_a_pending_order_is_reported(two_orders):
    batch, _orders = two_orders
    BatchStock.objects.filter(batch=batch).update(reserved=5)  # bypassing the services on purpose

    problems = run_checks(["reserved_units_pending_orders"])["reserved_units_pending_orders"]

    assert problems == [f"batch {batch.pk}: 5 units reserved at the supermarket, pending orders hold 3"]


def test_a_ledger_entry_that_does_not_add_up_is_reported(two_orders):
    employee = EmployeeFactory()
    AllocationEntry.objects.create(employee=employee, year=2030, kind="grant", amount=Decimal("700.00"), balance_after=Decimal("800.00"))

    problems = run_checks(["allocation_ledger"])["allocation_ledger"]

    assert len(problems) == 1 and "800.00" in problems[0]


def test_the_forward_trace_of_a_batch_lists_the_orders_with_employer_but_no_name(two_orders):
    batch, orders = two_orders
    extra = trace_batch(batch).extra
    sales = [row for row in extra if row.get("type") == "sale"]
    assert {row["order_number"] for row in sales} == {o.number for o in orders}
    assert {row["units"] for row in sales} == {1, 3}
    assert all(row["employer"] for row in sales)
    assert not any(orders[0].employee.name in str(row) for row in sales)

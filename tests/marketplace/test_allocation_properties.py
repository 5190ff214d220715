"""Property: whatever sequence of grants, spends and refunds is attempted, the ledger never goes
below zero, every balance_after is the running sum, and refused operations write nothing."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from marketplace.models import AllocationEntry
from marketplace.selectors import allocation_summary
from marketplace.services.allocation import allocation_grant, allocation_refund, allocation_spend
from tests.marketplace.factories import EmployeeFactory, allocation_year

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("900.00"), places=2)
operations = st.lists(st.tuples(st.sampled_from(["grant", "spend", "refund"]), amounts), min_size=1, max_size=25)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=operations)
def test_the_ledger_never_goes_negative_and_always_adds_up(ops):
    year = allocation_year().year
    employee = EmployeeFactory()
    expected = Decimal("0.00")
    spent_orders: list[tuple[str, Decimal]] = []
    for n, (op, amount) in enumerate(ops):
        if op == "grant":
            if allocation_grant(employee=employee, year=year) is not None:
                expected += Decimal("700.00")
        elif op == "spend":
            try:
                allocation_spend(employee=employee, year=year, amount=amount, order_number=f"P{employee.pk}-{n}")
            except DomainError:
                assert amount > expected
            else:
                expected -= amount
                spent_orders.append((f"P{employee.pk}-{n}", amount))
        elif spent_orders:
            number, spent = spent_orders.pop()
            allocation_refund(employee=employee, year=year, amount=spent, order_number=number, key=number)
            expected += spent

    summary = allocation_summary(employee=employee, year=year)
    assert summary.balance == expected >= 0
    assert summary.granted - summary.spent + summary.refunded == summary.balance
    running = Decimal("0.00")
    for entry in AllocationEntry.objects.filter(employee=employee, year=year).order_by("id"):
        running += entry.amount
        assert entry.balance_after == running >= 0

"""Orders carry their sales channel (online, counter, canteen) into settlement and the income
ledger; only an online order must have an employee."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from households.models import IncomeEntry, SalesChannel
from marketplace.models import Order
from marketplace.services.orders import TransitionNotAllowed, order_actor
from marketplace.settlement.models import SettlementLine
from marketplace.settlement.services import settled_days_mismatches, settlement_run
from tests.households.factories import HouseholdFactory
from tests.marketplace.settlement_factories import allocation_year, employee, packed_batch, sold_order

pytestmark = pytest.mark.django_db


def test_the_database_refuses_an_online_order_without_an_employee():
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(
            number="T-NOEMP", channel=Order.Channel.ONLINE, employee=None, status=Order.Status.PAID, year=2026,
            total=Decimal("5.00"), allocation_amount=Decimal("0.00"), card_amount=Decimal("5.00"),
        )


def test_the_database_refuses_an_allocation_part_without_an_employee():
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(
            number="T-NOEMP2", channel=Order.Channel.COUNTER, employee=None, status=Order.Status.COMPLETED, year=2026,
            total=Decimal("5.00"), allocation_amount=Decimal("5.00"), card_amount=Decimal("0.00"),
        )


def test_the_database_refuses_amounts_that_do_not_add_up_with_the_offline_part():
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(
            number="T-SUM", channel=Order.Channel.COUNTER, status=Order.Status.COMPLETED, year=2026,
            total=Decimal("5.00"), allocation_amount=Decimal("0.00"), card_amount=Decimal("0.00"), offline_amount=Decimal("4.00"),
        )


def test_settlement_writes_each_sales_channel_on_its_lines_and_income_entries():
    allocation_year()
    h1, h2 = HouseholdFactory(), HouseholdFactory()
    batch = packed_batch({h1: "3.000", h2: "7.000"})
    online = sold_order([(batch, 2)], unit_price="10.01")
    counter = sold_order([(batch, 3)], unit_price="7.33", channel=Order.Channel.COUNTER, status=Order.Status.COMPLETED)
    assert counter.employee is None
    settlement_run()
    by_channel = {
        c: sum(e.amount for e in IncomeEntry.objects.filter(kind="sales", channel=c)) for c in SalesChannel.values
    }
    assert by_channel == {"online": Decimal("20.02"), "counter": Decimal("21.99"), "canteen": 0}
    assert set(SettlementLine.objects.filter(order_line__order=online).values_list("channel", flat=True)) == {"online"}
    assert set(SettlementLine.objects.filter(order_line__order=counter).values_list("channel", flat=True)) == {"counter"}
    assert IncomeEntry.objects.filter(kind="dividend").exclude(channel="").count() == 0
    assert settled_days_mismatches() == []


def test_an_employee_has_no_part_in_an_order_without_an_employee():
    counter = sold_order([(packed_batch(), 1)], channel=Order.Channel.COUNTER, status=Order.Status.COMPLETED)
    with pytest.raises(TransitionNotAllowed):
        order_actor(employee().user, counter)

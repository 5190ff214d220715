import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from core import roles
from logistics.models import BatchStock
from marketplace.models import Order, OrderEvent, Payment, Refund, RefundLine
from marketplace.services.allocation import allocation_balance, allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from marketplace.services.orders import (
    InvalidTransition,
    OrderNotPayable,
    PaymentProviderError,
    order_cancel,
    order_mark_paid,
    order_refund,
    order_release_unpaid,
    order_transition,
    orders_release_unpaid,
)
from marketplace.tasks import orders_release_unpaid_task
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import EmployeeFactory, FakeProvider, ProductFactory, allocation_year, stock_batch, use_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(monkeypatch):
    fake = FakeProvider()
    use_provider(monkeypatch, fake)
    return fake


@pytest.fixture
def employee():
    setting = allocation_year()
    e = EmployeeFactory()
    allocation_grant(employee=e, year=setting.year)
    return e


@pytest.fixture
def staff():
    return staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF)


def stock_of(product):
    row = BatchStock.objects.get(batch__sku=product.sku)
    return row.quantity, row.reserved


def buy(employee, product, quantity, **kwargs):
    cart_item_set(employee=employee, product=product, quantity=quantity)
    return checkout_submit(employee=employee, **kwargs).order


def test_marking_a_card_order_paid_sells_its_units_once(employee, provider):
    product = ProductFactory(price=Decimal("400.00"))
    stock_batch(product, 10)
    order = buy(employee, product, 2)
    assert stock_of(product) == (10, 2)

    assert order_mark_paid(order=order) is True
    assert order_mark_paid(order=order) is False

    order.refresh_from_db()
    assert order.status == "paid" and order.paid_at is not None
    assert stock_of(product) == (8, 0)
    assert Payment.objects.get(order=order).status == "succeeded"
    assert list(order.events.values_list("from_status", "to_status")) == [("", "pending_payment"), ("pending_payment", "paid")]


def test_releasing_an_unpaid_order_gives_back_stock_and_allocation_and_is_idempotent(employee, provider):
    product = ProductFactory(price=Decimal("400.00"))
    stock_batch(product, 10)
    order = buy(employee, product, 2)

    assert order_release_unpaid(order=order, reason="test") is True
    assert order_release_unpaid(order=order, reason="test") is False

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert stock_of(product) == (10, 0)
    assert allocation_balance(employee=employee, year=order.year) == Decimal("700.00")
    with pytest.raises(OrderNotPayable):
        order_mark_paid(order=order)


def test_a_paid_order_is_never_released(employee, provider):
    product = ProductFactory(price=Decimal("400.00"))
    stock_batch(product, 10)
    order = buy(employee, product, 2)
    order_mark_paid(order=order)

    assert order_release_unpaid(order=order, reason="late sweep") is False
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_the_sweep_releases_only_card_orders_unpaid_for_more_than_30_minutes(employee, provider):
    product = ProductFactory(price=Decimal("400.00"))
    stock_batch(product, 10)
    old = buy(employee, product, 2)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=31))
    other = EmployeeFactory()
    allocation_grant(employee=other, year=old.year)
    fresh = buy(other, product, 2)
    Order.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=29))

    assert orders_release_unpaid_task.delay().get() == 1

    assert Order.objects.get(pk=old.pk).status == "cancelled"
    assert Order.objects.get(pk=fresh.pk).status == "pending_payment"
    assert stock_of(product) == (10, 2)
    assert orders_release_unpaid() == 0


def test_fulfilment_follows_the_state_machine_and_records_who_and_when(employee, staff):
    product = ProductFactory(price=Decimal("10.00"))
    stock_batch(product, 10)
    order = buy(employee, product, 1, fulfilment="office")

    with pytest.raises(InvalidTransition):
        order_transition(order=order, to="completed", actor=staff)
    order_transition(order=order, to="picking", actor=staff)
    with pytest.raises(InvalidTransition) as exc:
        order_transition(order=order, to="ready", actor=staff)
    assert "配送" in exc.value.message
    order_transition(order=order, to="delivering", actor=staff)
    order_transition(order=order, to="completed", actor=staff, reason="signed by the office")

    events = list(OrderEvent.objects.filter(order=order).order_by("id"))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("", "paid"), ("paid", "picking"), ("picking", "delivering"), ("delivering", "completed")
    ]
    assert all(e.author_id == staff.pk and e.created_at for e in events[1:])


def test_cancel_before_fulfilment_returns_sold_units_and_the_allocation(employee, staff):
    product = ProductFactory(price=Decimal("100.00"))
    stock_batch(product, 10)
    order = buy(employee, product, 3)
    order_transition(order=order, to="picking", actor=staff)
    assert stock_of(product) == (7, 0)

    order_cancel(order=order, actor=staff, reason="out of season")

    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert stock_of(product) == (10, 0)
    assert allocation_balance(employee=employee, year=order.year) == Decimal("700.00")
    refund = Refund.objects.get(order=order)
    assert (refund.allocation_amount, refund.card_amount) == (Decimal("300.00"), Decimal("0.00"))
    assert sum(RefundLine.objects.filter(refund=refund).values_list("units", flat=True)) == 3


def test_cancel_refunds_the_card_part_through_the_provider_after_commit(employee, provider, staff):
    product = ProductFactory(price=Decimal("500.00"))
    stock_batch(product, 10)
    order = buy(employee, product, 2)
    order_mark_paid(order=order)

    order_cancel(order=order, actor=staff, reason="changed mind")

    refund = Refund.objects.get(order=order)
    assert (refund.card_amount, refund.allocation_amount) == (Decimal("300.00"), Decimal("700.00"))
    assert provider.refunds == [{"payment": order.payment.pk, "amount": Decimal("300.00"), "key": f"refund:{refund.pk}"}]
    assert refund.__class__.objects.get(pk=refund.pk).provider_refund_id == "re_fake_1"
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("300.00"))


def test_a_completed_order_cannot_be_cancelled_but_can_be_refunded_per_line(employee, staff):
    tea, nuts = ProductFactory(price=Decimal("50.00")), ProductFactory(price=Decimal("20.00"))
    stock_batch(tea, 5)
    stock_batch(nuts, 5)
    cart_item_set(employee=employee, product=tea, quantity=2)
    order = buy(employee, nuts, 3)
    for step in ("picking", "ready", "completed"):
        order_transition(order=order, to=step, actor=staff)
    with pytest.raises(InvalidTransition):
        order_cancel(order=order, actor=staff, reason="too late")
    tea_line = order.lines.get(product=tea)

    refund = order_refund(order=order, lines={tea_line.pk: 1}, reason="damaged box", actor=staff)

    assert refund.allocation_amount == Decimal("50.00")
    assert allocation_balance(employee=employee, year=order.year) == Decimal("700.00") - Decimal("160.00") + Decimal("50.00")
    assert Order.objects.get(pk=order.pk).status == "completed"  # partial refund keeps the status
    assert stock_of(tea) == (3, 0)  # refunded after fulfilment: not back on sale
    with pytest.raises(Exception) as exc:
        order_refund(order=order, lines={tea_line.pk: 2}, reason="again", actor=staff)
    assert "还可退1件" in str(exc.value)

    order_refund(order=order, lines=None, reason="whole order", actor=staff, restock=True)

    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert stock_of(tea) == (4, 0) and stock_of(nuts) == (5, 0)
    assert allocation_balance(employee=employee, year=order.year) == Decimal("700.00")


def test_a_partial_refund_returns_the_card_part_first_then_the_allocation(employee, provider, staff):
    product = ProductFactory(price=Decimal("300.00"))
    stock_batch(product, 10)
    order = buy(employee, product, 3)  # 900 = 700 allocation + 200 card
    order_mark_paid(order=order)
    for step in ("picking", "ready", "completed"):
        order_transition(order=order, to=step, actor=staff)
    line = order.lines.get()

    refund = order_refund(order=order, lines={line.pk: 1}, reason="one box spoiled", actor=staff)

    assert (refund.card_amount, refund.allocation_amount) == (Decimal("200.00"), Decimal("100.00"))
    assert provider.refunds[-1]["amount"] == Decimal("200.00")
    assert allocation_balance(employee=employee, year=order.year) == Decimal("100.00")
    assert Payment.objects.get(order=order).status == "refunded"


def test_after_the_window_closes_a_refund_keeps_the_allocation_spent_and_says_so(employee, staff, monkeypatch):
    from marketplace.services import allocation as allocation_services

    product = ProductFactory(price=Decimal("100.00"))
    stock_batch(product, 10)
    order = buy(employee, product, 2)
    for step in ("picking", "ready", "completed"):
        order_transition(order=order, to=step, actor=staff)
    closes = allocation_year().closes_on
    monkeypatch.setattr(allocation_services, "allocation_today", lambda: closes + datetime.timedelta(days=1))

    refund = order_refund(order=order, lines=None, reason="late complaint", actor=staff)

    assert refund.allocation_amount == Decimal("0.00")
    assert "截止" in refund.reason
    assert sum(refund.lines.values_list("units", flat=True)) == 2
    assert allocation_balance(employee=employee, year=order.year) == Decimal("500.00")
    assert Order.objects.get(pk=order.pk).status == "refunded"


def test_a_card_refund_the_provider_did_not_confirm_is_sent_again_by_the_sweep(employee, staff, monkeypatch):
    from marketplace.tasks import refunds_send_pending_task

    class DownProvider(FakeProvider):
        def refund(self, **kwargs):
            raise ConnectionError("provider unreachable")

    working = FakeProvider()
    use_provider(monkeypatch, working)
    product = ProductFactory(price=Decimal("500.00"))
    stock_batch(product, 10)
    order = buy(employee, product, 2)
    order_mark_paid(order=order)
    use_provider(monkeypatch, DownProvider())

    with pytest.raises(PaymentProviderError) as exc:
        order_cancel(order=order, actor=staff, reason="changed mind")
    assert "自动" in exc.value.message
    refund = Refund.objects.get(order=order)
    assert Order.objects.get(pk=order.pk).status == "cancelled" and refund.provider_refund_id == ""

    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=6))
    use_provider(monkeypatch, working)
    assert refunds_send_pending_task.delay().get() == 1
    assert refunds_send_pending_task.delay().get() == 0

    assert working.refunds == [{"payment": order.payment.pk, "amount": Decimal("300.00"), "key": f"refund:{refund.pk}"}]
    assert Payment.objects.get(order=order).status == "refunded"

"""The order's answer in the API (checkout, my orders, one order, cancel) is built directly by
``OrderSerializer.to_representation``; it must be what DRF's field-by-field walk over the declared
fields gives, for every kind of order: paid from the allocation, part by card and still due, paid
by card, cancelled, several lines, another language, a WeChat JSAPI answer, read back or just
placed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import translation
from rest_framework import serializers

from marketplace.api import OrderSerializer
from marketplace.models import Order, Payment
from marketplace.services.allocation import allocation_grant
from marketplace.services.cart import cart_item_add
from marketplace.services.checkout import checkout_submit
from marketplace.services.orders import order_cancel
from tests.marketplace.factories import EmployeeFactory, FakeProvider, ProductFactory, allocation_year, stock_batch, use_provider

pytestmark = pytest.mark.django_db


def _fieldwise(order: Order, context: dict | None = None, many: bool = False):
    """DRF's own walk over the declared fields (``Serializer.to_representation``)."""
    serializer = OrderSerializer(order, context=context or {})
    if many:
        return [serializers.Serializer.to_representation(OrderSerializer(o, context=context or {}), o) for o in order]
    return serializers.Serializer.to_representation(serializer, order)


def _same(got, expected) -> None:
    # the same keys in the same order, the same values of the same types: the JSON is the same text
    assert json.dumps(got, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)


def _order(employee, prices_quantities, **checkout):
    for price, quantity in prices_quantities:
        product = ProductFactory(price=Decimal(price))
        stock_batch(product, 50)
        cart_item_add(employee=employee, product=product, quantity=quantity)
    return checkout_submit(employee=employee, **checkout)


@pytest.fixture
def employee():
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=allocation_year().year)
    return employee


def test_every_kind_of_order_answers_as_the_declared_fields_would(employee, monkeypatch):
    provider = FakeProvider()
    use_provider(monkeypatch, provider)
    placed = [
        _order(employee, [("12.30", 2)]),  # paid from the allocation, one line
        _order(employee, [("0.01", 3), ("99.99", 1), ("5.5", 4)]),  # several lines, prices to the fen
        _order(employee, [("333.33", 2)]),  # more than the balance left: the rest by card, still due
    ]
    orders = [result.order for result in placed]
    assert orders[2].status == Order.Status.PENDING_PAYMENT and orders[2].card_amount > 0
    # as just placed (the lines known, not read back), with the checkout's context
    for result in placed:
        context = {"payment_url": result.payment_url, "payment_params": result.payment_params}
        _same(OrderSerializer(result.order, context=context).data, _fieldwise(result.order, context))
    # read back from the database, with no context: the pending one's URL comes from its payment
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]).prefetch_related("lines__product"):
        _same(OrderSerializer(order).data, _fieldwise(order))
    due = Order.objects.get(pk=orders[2].pk)
    assert OrderSerializer(due).data["payment_url"] == f"https://pay.example/{due.number}"
    # a WeChat JSAPI answer carries the signed parameters
    context = {"payment_url": None, "payment_params": {"appId": "wx1", "paySign": "s", "package": "prepay_id=1"}}
    _same(OrderSerializer(due, context=context).data, _fieldwise(due, context))
    # paid by card, then another cancelled; in English as in Chinese
    Payment.objects.filter(order=due).update(status=Payment.Status.SUCCEEDED)
    Order.objects.filter(pk=due.pk).update(status=Order.Status.PAID)
    order_cancel(order=Order.objects.get(pk=orders[0].pk), actor=employee.user, reason="test")
    for language in ("zh-hans", "en"):
        with translation.override(language):
            every = list(Order.objects.filter(employee=employee).order_by("pk"))
            _same(OrderSerializer(every, many=True).data, _fieldwise(every, many=True))
            assert {o["status_display"] for o in OrderSerializer(every, many=True).data} >= {
                str(Order.Status.PAID.label), str(Order.Status.CANCELLED.label)
            }


def test_the_checkout_api_answers_with_the_same_text(employee):
    from rest_framework.test import APIClient

    product = ProductFactory(price=Decimal("7.77"))
    stock_batch(product, 10)
    cart_item_add(employee=employee, product=product, quantity=3)
    client = APIClient()
    client.force_authenticate(employee.user)
    body = client.post("/api/v1/checkout/", {}, format="json").json()
    order = Order.objects.get(number=body["number"])
    assert body == json.loads(json.dumps(_fieldwise(order)))
    assert body["total"] == "23.31" and body["lines"][0]["unit_price"] == "7.77" and body["payment_url"] is None

"""Providers as plug-ins: checkout's ``payment_method``, each Payment remembering its provider,
and every refund (and retried refund, and late-payment refund) going back to that provider."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from core import roles
from marketplace.models import Order, Payment, PaymentEvent
from marketplace.payments import base
from marketplace.payments.services import late_payment_refund
from marketplace.services.allocation import allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from marketplace.services.orders import order_mark_paid, order_refund, order_transition, refunds_send_pending
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import EmployeeFactory, FakeProvider, ProductFactory, allocation_year, stock_batch, use_provider

pytestmark = pytest.mark.django_db


class Wechat(FakeProvider):
    name = "wechat"


class Alipay(FakeProvider):
    name = "alipay"


class Stripe(FakeProvider):
    name = "stripe"


@pytest.fixture
def employee():
    setting = allocation_year()
    e = EmployeeFactory()
    allocation_grant(employee=e, year=setting.year)
    return e


def _over_balance_cart(employee, price="500.00", quantity=2):
    product = ProductFactory(price=Decimal(price))
    stock_batch(product, 10)
    cart_item_set(employee=employee, product=product, quantity=quantity)
    return product


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_only_configured_provider_is_used_by_default_and_the_payment_records_it(employee, monkeypatch):
    wechat = Wechat()
    use_provider(monkeypatch, wechat)
    _over_balance_cart(employee)

    result = checkout_submit(employee=employee)

    assert Payment.objects.get(order=result.order).provider == "wechat"
    assert [c["order"] for c in wechat.checkouts] == [result.order.number]


def test_the_chosen_provider_takes_the_payment_when_several_are_configured(employee, monkeypatch):
    wechat, alipay = Wechat(), Alipay()
    use_provider(monkeypatch, wechat, alipay)
    _over_balance_cart(employee)

    body = _client(employee.user).post("/api/v1/checkout/", {"payment_method": "alipay"}, format="json").json()

    assert body["payment_method"] == "alipay"
    assert Payment.objects.get(order__number=body["number"]).provider == "alipay"
    assert alipay.checkouts and not wechat.checkouts


def test_an_unconfigured_payment_method_is_400_with_a_clear_message_and_nothing_is_written(employee, monkeypatch):
    use_provider(monkeypatch, Wechat())
    _over_balance_cart(employee)

    with translation.override("en"):
        response = _client(employee.user).post("/api/v1/checkout/", {"payment_method": "stripe"}, format="json",
                                               HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "Card (Stripe) is not available" in response.json()["detail"]
    assert "WeChat Pay" in response.json()["detail"]
    assert not Order.objects.exists()


def test_a_payment_method_with_no_provider_at_all_is_400_and_allocation_only_orders_still_work(employee, monkeypatch):
    use_provider(monkeypatch, None)
    product = ProductFactory(price=Decimal("100.00"))
    stock_batch(product, 10)
    client = _client(employee.user)
    client.post("/api/v1/cart/items/", {"product": product.pk, "quantity": 1}, format="json")

    refused = client.post("/api/v1/checkout/", {"payment_method": "wechat"}, format="json")
    placed = client.post("/api/v1/checkout/", {}, format="json")

    assert refused.status_code == 400 and "allocation" in refused.json()["detail"].lower() or "额度" in refused.json()["detail"]
    assert placed.status_code == 201 and placed.json()["status"] == "paid" and placed.json()["payment_method"] is None


def test_an_unknown_payment_method_is_400(employee, monkeypatch):
    use_provider(monkeypatch, Wechat())
    _over_balance_cart(employee)

    response = _client(employee.user).post("/api/v1/checkout/", {"payment_method": "paypal"}, format="json")

    assert response.status_code == 400
    assert not Order.objects.exists()


def test_several_providers_and_no_choice_is_400_when_there_is_a_card_part(employee, monkeypatch):
    use_provider(monkeypatch, Wechat(), Alipay())
    _over_balance_cart(employee)

    response = _client(employee.user).post("/api/v1/checkout/", {}, format="json")

    assert response.status_code == 400
    assert "wechat" in response.json()["detail"] and "alipay" in response.json()["detail"]
    assert not Order.objects.exists()


def test_several_providers_and_no_choice_is_fine_when_the_allocation_pays_everything(employee, monkeypatch):
    use_provider(monkeypatch, Wechat(), Alipay())
    _over_balance_cart(employee, price="100.00", quantity=1)

    assert checkout_submit(employee=employee).order.status == Order.Status.PAID


def _paid_card_order(employee, monkeypatch, provider):
    use_provider(monkeypatch, provider)
    _over_balance_cart(employee)
    order = checkout_submit(employee=employee).order
    Payment.objects.filter(order=order).update(status=Payment.Status.SUCCEEDED, payment_intent_id="tx-1")
    order_mark_paid(order=order)
    staff = _staff()
    for step in ("picking", "ready", "completed"):
        order_transition(order=order, to=step, actor=staff)
    return Order.objects.get(pk=order.pk)


def _staff():
    return staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF)


def test_a_refund_goes_to_the_provider_of_the_payment_not_the_one_configured_now(employee, monkeypatch):
    wechat, stripe = Wechat(), Stripe()
    order = _paid_card_order(employee, monkeypatch, wechat)
    use_provider(monkeypatch, stripe, wechat)  # Stripe is now first (the default for new checkouts)
    staff = _staff()
    line = order.lines.get()

    refund = order_refund(order=order, actor=staff, lines={line.pk: 2}, reason="damaged")

    assert refund.card_amount > 0
    assert [r["amount"] for r in wechat.refunds] == [refund.card_amount]
    assert stripe.refunds == []


def test_a_retried_refund_goes_to_the_payment_s_provider_and_waits_while_it_is_not_configured(employee, monkeypatch):
    wechat, stripe = Wechat(), Stripe()
    order = _paid_card_order(employee, monkeypatch, wechat)
    use_provider(monkeypatch, stripe)  # WeChat Pay switched off for a while
    staff = _staff()
    with pytest.raises(base.PaymentProviderError):
        order_refund(order=order, actor=staff, lines={order.lines.get().pk: 2}, reason="damaged")
    assert stripe.refunds == []

    use_provider(monkeypatch, stripe, wechat)
    assert refunds_send_pending(older_than=__import__("datetime").timedelta(0)) == 1
    assert len(wechat.refunds) == 1 and stripe.refunds == []


def test_a_late_payment_is_refunded_by_the_provider_that_took_it(employee, monkeypatch):
    alipay, stripe = Alipay(), Stripe()
    use_provider(monkeypatch, alipay)
    _over_balance_cart(employee)
    order = checkout_submit(employee=employee).order
    Payment.objects.filter(order=order).update(status=Payment.Status.SUCCEEDED)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    use_provider(monkeypatch, stripe, alipay)

    late_payment_refund(payment_id=order.payment.pk)

    assert [r["key"] for r in alipay.refunds] == [f"late-payment:{order.payment.pk}"]
    assert stripe.refunds == [] and not PaymentEvent.objects.exists()


def test_the_openapi_schema_documents_payment_method(employee):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json", format="json")
    assert schema.status_code == 200
    import json

    doc = json.loads(schema.content)
    checkout_input = doc["components"]["schemas"]["CheckoutInput"]["properties"]["payment_method"]
    choices = checkout_input.get("enum") or next(
        doc["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]["enum"] for ref in checkout_input.get("oneOf", checkout_input.get("allOf", []))
        if "$ref" in ref
    )
    assert {"stripe", "wechat", "alipay"} <= set(choices)
    assert "configured" in (checkout_input.get("description") or "")
    order_props = doc["components"]["schemas"]["Order"]["properties"]
    assert "payment_method" in order_props and "payment_params" in order_props

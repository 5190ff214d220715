"""WeChat Pay (API v3) against the loopback stand-in: the real wechatpayv3 client, real HTTP, keys
generated per test; notifications signed with the stand-in's platform key and encrypted with the
API v3 key, as WeChat Pay sends them."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client

from core import roles
from logistics.models import BatchStock
from marketplace.models import Order, Payment, PaymentEvent
from marketplace.payments.base import PaymentProviderError, get_provider
from marketplace.payments.wechat_provider import WeChatPayProvider
from marketplace.services.allocation import allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from marketplace.services.orders import order_refund, order_transition, orders_release_unpaid
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import EmployeeFactory, ProductFactory, allocation_year, stock_batch
from tests.marketplace.wechat_standin import new_key, post_notification

pytestmark = pytest.mark.django_db


def wechat_card_order(standin, *, openid: str = ""):
    """An order of 1200.00: 700.00 from the allocation, 500.00 through WeChat Pay."""
    setting = allocation_year()
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=setting.year)
    product = ProductFactory(price=Decimal("300.00"))
    with transaction.atomic():
        batch = stock_batch(product, 10)
    cart_item_set(employee=employee, product=product, quantity=4)
    result = checkout_submit(employee=employee, payment_method="wechat", success_url="https://shop.example/ok",
                             client={"ip": "10.1.2.3", "mobile": True, "wechat_openid": openid})
    order = result.order
    assert order.status == Order.Status.PENDING_PAYMENT
    return order, Payment.objects.get(order=order), batch, result


def _stock(batch):
    row = BatchStock.objects.get(batch=batch)
    return row.quantity, row.reserved


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    def deliver(headers, body):
        with django_capture_on_commit_callbacks(execute=True):
            return post_notification(client, headers, body)

    return deliver


def test_wechat_is_the_default_provider_when_it_is_the_only_one_configured(wechat_standin):
    assert isinstance(get_provider(), WeChatPayProvider)


def test_h5_checkout_orders_in_fen_with_the_order_number_and_a_signed_request(wechat_standin):
    order, payment, _batch, result = wechat_card_order(wechat_standin)

    [request] = wechat_standin.requests_to("POST", "/v3/pay/transactions/h5")
    assert request.body["amount"] == {"total": 50000, "currency": "CNY"}
    assert request.body["out_trade_no"] == order.number
    assert request.body["scene_info"]["payer_client_ip"] == "10.1.2.3"
    assert request.body["notify_url"].endswith("/payments/wechat/notify/")
    assert request.headers["authorization"].startswith("WECHATPAY2-SHA256-RSA2048 ")
    assert (payment.provider, payment.session_id) == ("wechat", order.number)
    assert result.payment_url.startswith("https://wx.tenpay.com/") and "redirect_url=" in result.payment_url
    assert wechat_standin.requests_to("GET", "/v3/certificates")  # the platform certificate was fetched to verify answers


def test_jsapi_checkout_inside_wechat_gives_the_signed_bridge_parameters(wechat_standin):
    _order, _payment, _batch, result = wechat_card_order(wechat_standin, openid="o-payer-1")

    [request] = wechat_standin.requests_to("POST", "/v3/pay/transactions/jsapi")
    assert request.body["payer"] == {"openid": "o-payer-1"}
    params = result.payment_params
    assert params["package"].startswith("prepay_id=wx") and params["signType"] == "RSA"
    # paySign is the merchant key's signature over appId, timeStamp, nonceStr, package
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    message = "\n".join([params["appId"], params["timeStamp"], params["nonceStr"], params["package"]]) + "\n"
    wechat_standin.merchant_key.public_key().verify(base64.b64decode(params["paySign"]), message.encode(), padding.PKCS1v15(),
                                                    hashes.SHA256())


def test_an_answer_not_signed_by_the_platform_certificate_is_refused_and_the_order_released(wechat_standin, monkeypatch):
    forger = new_key()
    original = wechat_standin.sign_headers
    monkeypatch.setattr(wechat_standin, "sign_headers", lambda body, **kw: original(body, key=forger, **kw))
    with pytest.raises(PaymentProviderError):
        wechat_card_order(wechat_standin)
    assert Order.objects.get().status == Order.Status.CANCELLED


def test_the_notification_marks_the_order_paid_once_and_a_partial_refund_goes_to_wechat(wechat_standin, deliver, stripe_standin):
    order, payment, batch, _result = wechat_card_order(wechat_standin)
    headers, body = wechat_standin.notification(wechat_standin.pay(order.number))

    assert deliver(headers, body).status_code == 204
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.PAID and payment.status == Payment.Status.SUCCEEDED
    assert payment.payment_intent_id == wechat_standin.transactions[order.number]["transaction_id"]
    assert _stock(batch) == (6, 0)

    staff = staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF)
    for step in ("picking", "ready", "completed"):
        order_transition(order=order, to=step, actor=staff)
    refund = order_refund(order=order, lines={order.lines.get().pk: 1}, reason="one box spoiled", actor=staff)

    assert refund.card_amount > 0 and refund.provider_refund_id == ""  # the instance returned is the one written before sending
    [sent] = wechat_standin.requests_to("POST", "/v3/refund/domestic/refunds")
    assert sent.body["amount"] == {"refund": int(refund.card_amount * 100), "total": 50000, "currency": "CNY"}
    assert sent.body["out_refund_no"] == f"{order.number}-refund-{refund.pk}"
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == (Payment.Status.PARTIALLY_REFUNDED, refund.card_amount)
    assert stripe_standin.requests == []  # a refund of a WeChat-paid order never calls Stripe, though Stripe is configured


def test_the_same_refund_sent_twice_is_one_refund_at_wechat(wechat_standin):
    order, payment, _batch, _result = wechat_card_order(wechat_standin)
    wechat_standin.pay(order.number)
    provider = WeChatPayProvider()

    first = provider.refund(payment=payment, amount=Decimal("50.00"), idempotency_key="refund:7")
    second = provider.refund(payment=payment, amount=Decimal("50.00"), idempotency_key="refund:7")

    assert first == second and len(wechat_standin.refunds) == 1
    assert wechat_standin.transactions[order.number]["refunded"] == 5000


@pytest.mark.parametrize("how", ["forged", "tampered", "stale", "wrong_key", "unsigned"])
def test_a_bad_notification_is_400_and_changes_nothing(wechat_standin, deliver, how):
    order, _payment, batch, _result = wechat_card_order(wechat_standin)
    resource = wechat_standin.pay(order.number)
    if how == "forged":
        headers, body = wechat_standin.notification(resource, key=new_key())
    elif how == "tampered":
        headers, body = wechat_standin.notification(resource)
        body = body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESS" ')
    elif how == "stale":
        headers, body = wechat_standin.notification(resource, timestamp=int(time.time()) - 3600)
    elif how == "wrong_key":  # signed by the platform, but not encrypted with our API v3 key
        headers, body = wechat_standin.notification(resource, apiv3_key="0" * 32)
    else:
        headers, body = wechat_standin.notification(resource)
        headers = {k: v for k, v in headers.items() if k != "Wechatpay-Signature"}

    response = deliver(headers, body)

    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    assert not PaymentEvent.objects.exists()
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING_PAYMENT
    assert _stock(batch) == (10, 4)


def test_a_replayed_notification_is_400_and_a_fresh_redelivery_changes_nothing(wechat_standin, deliver):
    order, _payment, _batch, _result = wechat_card_order(wechat_standin)
    resource = wechat_standin.pay(order.number)
    headers, body = wechat_standin.notification(resource, notification_id="EV-1")
    assert deliver(headers, body).status_code == 204

    replay = deliver(headers, body)
    again_headers, again_body = wechat_standin.notification(resource, notification_id="EV-1")  # WeChat's own retry
    again = deliver(again_headers, again_body)

    assert replay.status_code == 400 and again.status_code == 204
    assert PaymentEvent.objects.count() == 1
    assert Order.objects.get(pk=order.pk).events.filter(to_status=Order.Status.PAID).count() == 1


def test_a_payment_whose_notification_is_lost_is_found_by_the_sweep_s_order_query(wechat_standin, django_capture_on_commit_callbacks):
    order, payment, batch, _result = wechat_card_order(wechat_standin)
    wechat_standin.pay(order.number)  # paid, but the notification never arrives

    with django_capture_on_commit_callbacks(execute=True):
        assert orders_release_unpaid(now=order.created_at + datetime.timedelta(minutes=31)) == 0

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert PaymentEvent.objects.get().event_type == "QUERY.SUCCESS"
    assert wechat_standin.requests_to("GET", f"/v3/pay/transactions/out-trade-no/{order.number}")
    assert _stock(batch) == (6, 0)


def test_the_sweep_releases_an_order_wechat_says_is_unpaid_and_keeps_one_it_cannot_ask_about(wechat_standin, settings):
    unpaid, _p, _b, _r = wechat_card_order(wechat_standin)
    later = unpaid.created_at + datetime.timedelta(minutes=31)
    settings.WECHATPAY_API_BASE = "http://127.0.0.1:9"  # WeChat Pay unreachable
    from marketplace.payments import wechat_provider

    wechat_provider._clients.clear()
    assert orders_release_unpaid(now=later) == 0
    assert Order.objects.get(pk=unpaid.pk).status == Order.Status.PENDING_PAYMENT

    wechat_standin.configure(settings)
    assert orders_release_unpaid(now=later) == 1
    assert Order.objects.get(pk=unpaid.pk).status == Order.Status.CANCELLED


def test_a_notification_for_the_wrong_amount_does_not_mark_the_order_paid(wechat_standin, deliver):
    order, _payment, _batch, _result = wechat_card_order(wechat_standin)
    resource = wechat_standin.pay(order.number)
    resource["amount"] = {**resource["amount"], "total": 1}

    assert deliver(*wechat_standin.notification(resource)).status_code == 204

    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING_PAYMENT
    assert PaymentEvent.objects.get().outcome.startswith("AMOUNT MISMATCH")


def test_the_notify_route_answers_400_to_garbage(wechat_standin):
    response = Client().post("/payments/wechat/notify/", data="not json", content_type="application/json",
                             HTTP_WECHATPAY_TIMESTAMP=str(int(time.time())))
    assert response.status_code == 400 and not PaymentEvent.objects.exists()


def test_the_daily_reconciliation_lists_a_planted_wechat_difference(wechat_standin, deliver):
    from django.utils import timezone

    from marketplace.models import ProviderReconciliation
    from marketplace.payments.reconcile import payments_reconcile

    clean, _p, _b, _r = wechat_card_order(wechat_standin)
    deliver(*wechat_standin.notification(wechat_standin.pay(clean.number)))
    planted, _p2, _b2, _r2 = wechat_card_order(wechat_standin)
    deliver(*wechat_standin.notification(wechat_standin.pay(planted.number)))
    wechat_standin.transactions[planted.number]["amount"]["total"] = 49900  # WeChat Pay's record differs by 1 yuan

    payments_reconcile(day=timezone.localdate())

    report = ProviderReconciliation.objects.get(provider="wechat")
    assert report.checked == 2
    assert [(d["order"], d["kind"], d["books"], d["provider"]) for d in report.differences] == [
        (planted.number, "amount", "500.00", "499.00")]
